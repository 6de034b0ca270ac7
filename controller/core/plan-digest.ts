import { createHash } from "node:crypto";
import { canonicalJson } from "../manifest/validate.js";
import type { AllocationReport } from "./allocation.js";
import type { StageSpec, TaskManifest } from "./manifest-types.js";
import type { ApprovalRequest, ProposedRole, StageProposal, WorktreePlanEntry } from "./status-types.js";

/** Everything an approval of a stage's plan covers. */
export interface PlanDigestInput {
  readonly stage: StageSpec;
  readonly proposal: StageProposal;
  /** The stage's Task manifests: their prompts, branches and gates are part of what is approved. */
  readonly tasks: readonly TaskManifest[];
  readonly requiredApprovals: number;
}

/**
 * Pure: sha256 (hex) of the canonical JSON of the plan. Only what the
 * approval is about goes in (stage spec, the stage's tasks, allocation,
 * worktree plan), so an edit to another stage's tasks does not make this
 * stage's approval stale, while any change to this plan does (a re-plan
 * clears old approvals). Key order and task order do not matter.
 */
export function planDigest(input: PlanDigestInput): string {
  const tasks = input.tasks
    .filter((t) => t.spec.stage === input.stage.name)
    .map((t) => ({ name: t.metadata.name, spec: t.spec }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const worktrees = [...input.proposal.worktrees].sort((a, b) => (a.task < b.task ? -1 : a.task > b.task ? 1 : 0));
  const canonical = canonicalJson({
    v: 1,
    stage: input.stage,
    tasks,
    allocation: input.proposal.allocation,
    worktrees,
    requiredApprovals: input.requiredApprovals,
  });
  return createHash("sha256").update(canonical).digest("hex");
}

/**
 * Pure: a short digest (16 hex) of one task's spec. A task records the digest
 * it started with; a Merged or Failed task whose spec digest changed since is
 * run again in a new round.
 */
export function taskSpecDigest(task: TaskManifest): string {
  return createHash("sha256").update(canonicalJson(task.spec)).digest("hex").slice(0, 16);
}

/** The request people answer: id `<stage>-<digest[:12]>`. */
export function approvalRequestFor(stage: string, digest: string, requiredApprovals: number): ApprovalRequest {
  return { id: `${stage}-${digest.slice(0, 12)}`, planDigest: digest, requiredApprovals };
}

/** The allocation part of a proposal, without the capacity snapshot (which changes with every session). */
export function proposalFromAllocation(report: AllocationReport, worktrees: readonly WorktreePlanEntry[]): StageProposal {
  const allocation: ProposedRole[] = report.roles.map((r) => ({
    role: r.role,
    requested: r.requested,
    allocated: r.allocated,
    assignments: r.assignments.map((a) => ({ agent: a.agent, model: a.model, count: a.count })),
    tasks: [...r.tasks],
  }));
  return { allocation, worktrees: [...worktrees] };
}
