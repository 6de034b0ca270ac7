import type { ResolvedAgent } from "./agent-profiles.js";
import { planAllocation, type AllocationReport } from "./allocation.js";
import { EMPTY_USAGE, type CapacityLimits } from "./capacity.js";
import type { ManifestSet, StageSpec } from "./manifest-types.js";
import { approvalRequestFor, planDigest, proposalFromAllocation } from "./plan-digest.js";
import { stageNeedsApproval, taskBranch, type ProjectConfig } from "./project-config.js";
import type { ApprovalRequest, StageProposal, WorktreePlanEntry } from "./status-types.js";

/** A stage's proposal: what a person approves, and its digest. */
export interface StagePlan {
  readonly stage: StageSpec;
  readonly report: AllocationReport;
  readonly proposal: StageProposal;
  readonly digest: string;
  readonly approvalRequired: boolean;
  readonly request: ApprovalRequest | null;
}

/**
 * Pure: the allocation (against empty usage: the plan, not the moment's free
 * slots, which the capacity transaction enforces when sessions start) and the
 * worktree plan of a stage, with its digest and approval request.
 */
export function planStage(set: ManifestSet, config: ProjectConfig, agents: readonly ResolvedAgent[], limits: CapacityLimits, stage: StageSpec): StagePlan {
  const tasks = set.tasks.filter((t) => t.spec.stage === stage.name);
  const report = planAllocation({ stage, agents, limits, inUse: EMPTY_USAGE, tasks });
  const worktrees: WorktreePlanEntry[] = tasks.map((t) => ({
    task: t.metadata.name,
    role: t.spec.role,
    branch: taskBranch(config, t),
    base: config.integrationBranch,
    path: `${config.worktreeRoot}/${t.metadata.name}`,
  }));
  const proposal = proposalFromAllocation(report, worktrees);
  const digest = planDigest({ stage, proposal, tasks: set.tasks, requiredApprovals: config.policy.requiredApprovals });
  const approvalRequired = stageNeedsApproval(stage);
  return { stage, report, proposal, digest, approvalRequired, request: approvalRequired ? approvalRequestFor(stage.name, digest, config.policy.requiredApprovals) : null };
}

/** Stages ordered so every stage comes after its `needs` (validation guarantees no cycles). */
export function orderStages(stages: readonly StageSpec[]): StageSpec[] {
  const byName = new Map(stages.map((s) => [s.name, s]));
  const out: StageSpec[] = [];
  const seen = new Set<string>();
  const visit = (stage: StageSpec): void => {
    if (seen.has(stage.name)) return;
    seen.add(stage.name);
    for (const need of stage.needs ?? []) {
      const dep = byName.get(need);
      if (dep !== undefined) visit(dep);
    }
    out.push(stage);
  };
  stages.forEach(visit);
  return out;
}
