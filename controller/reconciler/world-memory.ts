/**
 * The world is the memory: what a new or emptied ledger is rebuilt from
 * before anything acts. Git says which tasks already landed (the
 * `Gaffer-Task` trailer on the integration branch) and which worktrees
 * exist; the committed status files say which approvals count. A landed
 * task is recorded Merged (a final task snapshot, a merged row, a
 * `MergeRecognized` event) so it is never run or merged again.
 */
import { taskSpecDigest } from "../core/plan-digest.js";
import { resolveAgent } from "../core/agent-profiles.js";
import { capacityLimits } from "../core/capacity.js";
import { resolveHosts } from "../core/hosts.js";
import type { ManifestSet, TaskManifest } from "../core/manifest-types.js";
import { allAgents, allStages, resolveProject, taskBranch } from "../core/project-config.js";
import { planStage } from "../core/stage-plan.js";
import { evaluateApprovals } from "../governance/approvals.js";
import { taskMachine, type TaskContext } from "../machines/task.machine.js";
import { saveTaskSnapshot } from "../tasks/task-store.js";
import type { Git } from "../ports.js";
import { targetRepoPath, worktreeRootPath, type WorkspaceContext } from "../workspace/context.js";
import { findLandedInGit, recordLandedMerge } from "../workspace/merge-evidence.js";
import { recordApprovalVerdicts } from "../../state/approvals.repository.js";
import { appendEvent } from "../../state/events.repository.js";
import type { Ledger } from "../../state/ledger.js";
import { resolve, sep } from "node:path";

/** What a rebuild found, for the CLI (text and --json) and the controller's log. */
export interface RebuildReport {
  /** The ledger held no task or stage yet (a new, moved-aside or truncated ledger). */
  readonly ledgerWasEmpty: boolean;
  readonly integrationBranch: string;
  /** Tasks found landed in git and recorded Merged now. */
  readonly merged: readonly { readonly task: string; readonly stage: string; readonly how: string; readonly sha: string }[];
  /** Tasks the ledger already knew as Merged. */
  readonly alreadyMerged: readonly string[];
  /** Tasks with no landed work: the controller will run them (adopting a worktree that is present). */
  readonly toRun: readonly string[];
  /** Task worktrees present on disk, under the worktree root. */
  readonly worktrees: readonly { readonly task: string; readonly path: string; readonly branch: string; readonly head: string | null }[];
  /** Per stage that needs approval: what its committed status file says now. */
  readonly approvals: readonly { readonly stage: string; readonly reason: string; readonly approvers: readonly string[]; readonly message: string }[];
}

export interface RebuildInput {
  readonly dir: string;
  readonly db: Ledger;
  readonly git: Git;
  readonly set: ManifestSet;
  readonly actor: string;
}

/** The persisted snapshot of a task machine resting in Merged. */
function mergedSnapshot(task: TaskManifest, maxGateAttempts: number, maxResolveAttempts: number, reason: string): unknown {
  const context: TaskContext = { name: task.metadata.name, maxGateAttempts, maxResolveAttempts, attempt: 1, gateAttempts: 0, resolveAttempts: 0, feedback: null, conflictedFiles: [], reason, round: 0, retryOf: null, specDigest: taskSpecDigest(task) };
  return taskMachine.getPersistedSnapshot(taskMachine.resolveState({ value: "Merged", context }));
}

/** Whether the ledger holds no machine yet. */
export async function isLedgerEmpty(db: Ledger): Promise<boolean> {
  const [task, stage] = await Promise.all([db.selectFrom("tasks").select("name").executeTakeFirst(), db.selectFrom("stages").select("name").executeTakeFirst()]);
  return task === undefined && stage === undefined;
}

/** Tasks whose work is on the integration branch are recorded Merged; records nothing when none is. */
export async function recognizeLandedTasks(input: RebuildInput): Promise<Pick<RebuildReport, "merged" | "alreadyMerged" | "toRun">> {
  const config = resolveProject(input.set.project, input.dir);
  const ctx: WorkspaceContext = { db: input.db, git: input.git, config, manifests: input.set, controlDir: input.dir, actor: input.actor, recordTaskPhases: true };
  const trailers = await input.git.taskTrailers(targetRepoPath(ctx), `refs/heads/${config.integrationBranch}`);
  const merged: RebuildReport["merged"][number][] = [];
  const alreadyMerged: string[] = [];
  const toRun: string[] = [];
  for (const task of input.set.tasks) {
    const name = task.metadata.name;
    const row = await input.db.selectFrom("tasks").select("phase").where("name", "=", name).executeTakeFirst();
    if (row?.phase === "Merged") {
      alreadyMerged.push(name);
      continue;
    }
    const evidence = row === undefined || row.phase === "Pending" ? await findLandedInGit(ctx, name, trailers) : null;
    if (evidence === null) {
      toRun.push(name);
      continue;
    }
    const reason = `already on ${config.integrationBranch} at ${evidence.sha.slice(0, 12)} (${evidence.how})`;
    await recordLandedMerge(ctx, name, evidence);
    await saveTaskSnapshot(input.db, { name, stage: task.spec.stage, role: task.spec.role, phase: "Merged", snapshot: mergedSnapshot(task, config.policy.maxGateAttempts, config.policy.maxResolveAttempts, reason), context: { reason, gateAttempts: 0, resolveAttempts: 0 }, expected: "any", actor: input.actor });
    merged.push({ task: name, stage: task.spec.stage, how: evidence.how, sha: evidence.sha });
  }
  return { merged, alreadyMerged, toRun };
}

/** Rebuilds the ledger's memory from git and the status files (idempotent: a second run records nothing new but its `LedgerRebuilt` event). */
export async function rebuildFromWorld(input: RebuildInput): Promise<RebuildReport> {
  const config = resolveProject(input.set.project, input.dir);
  const ctx: WorkspaceContext = { db: input.db, git: input.git, config, manifests: input.set, controlDir: input.dir, actor: input.actor };
  const ledgerWasEmpty = await isLedgerEmpty(input.db);
  const tasks = await recognizeLandedTasks(input);
  const report: RebuildReport = { ledgerWasEmpty, integrationBranch: config.integrationBranch, ...tasks, worktrees: await presentWorktrees(ctx), approvals: await countApprovals(input, config) };
  await appendEvent(input.db, { actor: input.actor, action: "LedgerRebuilt", subject: "project/ledger", payload: { ledgerWasEmpty, merged: report.merged.map((m) => m.task), alreadyMerged: report.alreadyMerged, toRun: report.toRun, worktrees: report.worktrees.map((w) => w.task), approvals: report.approvals.map((a) => ({ stage: a.stage, reason: a.reason })) } });
  return report;
}

/** Task worktrees git lists under the worktree root (on the task's branch). */
async function presentWorktrees(ctx: WorkspaceContext): Promise<RebuildReport["worktrees"]> {
  const root = worktreeRootPath(ctx) + sep;
  const entries = await ctx.git.listWorktrees(targetRepoPath(ctx));
  const found: RebuildReport["worktrees"][number][] = [];
  for (const task of ctx.manifests.tasks) {
    const branch = taskBranch(ctx.config, task);
    const entry = entries.find((e) => e.branch === branch && resolve(e.path).startsWith(root));
    if (entry !== undefined) found.push({ task: task.metadata.name, path: entry.path, branch, head: entry.head });
  }
  return found;
}

/** Re-judges each stage's committed approvals against its current plan and records the verdicts (idempotent). */
async function countApprovals(input: RebuildInput, config: ReturnType<typeof resolveProject>): Promise<RebuildReport["approvals"]> {
  const agents = allAgents(input.set).map(resolveAgent);
  const limits = capacityLimits(config, agents, resolveHosts(input.set, input.dir));
  const out: RebuildReport["approvals"][number][] = [];
  for (const stage of allStages(input.set)) {
    const plan = planStage(input.set, config, agents, limits, stage);
    if (plan.request === null) continue;
    const judgement = await evaluateApprovals({ dir: input.dir, stage: stage.name, policy: config.policy, request: plan.request }).catch((error: unknown) => ({ reason: "Unreadable", approvers: [], message: (error as Error).message, verdicts: [] }) as const);
    if (judgement !== null && "requestId" in judgement && judgement.verdicts.length > 0) await recordApprovalVerdicts(input.db, { stage: stage.name, judgement, actor: input.actor });
    out.push({ stage: stage.name, reason: judgement?.reason ?? "Pending", approvers: judgement?.approvers ?? [], message: judgement?.message ?? "no approval yet" });
  }
  return out;
}
