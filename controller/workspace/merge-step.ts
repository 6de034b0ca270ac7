/**
 * One merge from the queue, in the task's own worktree: bring the branch up
 * to date with the integration head (merge | squash | rebase), gate that
 * exact head, and only then fast-forward the integration branch.
 */
import { attemptsExhausted } from "../machines/task.machine.js";
import type { TaskManifest } from "../core/manifest-types.js";
import { findTask } from "../core/project-config.js";
import { GafferError, GitError, MergeBlockedError, MergeConflictError, NotFoundError, PolicyError } from "../errors.js";
import type { GitObjectReader } from "../ports.js";
import { missingGateReason, runGate, taskGate, type GateReviewer } from "../gates/gate-runner.js";
import { appendEvent } from "../../state/events.repository.js";
import { immediateTransaction } from "../../state/ledger.js";
import { findMerge, setMergeState, type MergeRecord } from "../../state/merges.repository.js";
import { findActiveWorktree, type WorktreeRecord } from "../../state/worktrees.repository.js";
import { readConflictHunks, recordConflict, type ConflictFound } from "./conflicts.js";
import { policyRefusal, targetRepoPath, tellTask, type WorkspaceContext } from "./context.js";
import { fastForwardIntegration } from "./integration-ref.js";
import { bringUpToDate, landPlanInWorktree, planMerge, uncommittedError, type MergePlan } from "./merge-build.js";
import { findLandedInGit } from "./merge-evidence.js";
import { changedProtectedPaths, checkProtectedPaths } from "./protected-paths.js";
import { removeWorktree } from "./worktree-removal.js";

export interface MergeStepOptions {
  /** Gives review verdicts when a gate requires review. */
  readonly reviewer?: GateReviewer;
  /** The pass's object reader (one git process for the whole queue run). */
  readonly objects?: GitObjectReader;
}

type Outcome =
  | { readonly kind: "merged"; readonly headSha: string; readonly mergeSha: string; readonly from: string; readonly synced: readonly string[] }
  | ({ readonly kind: "conflict" } & ConflictFound);

const identity = (task: TaskManifest) => ({ name: task.metadata.name, stage: task.spec.stage, role: task.spec.role });

/** Runs one claimed (`running`) merge to its end and returns the finished row. Never throws for the task's own problems. */
export async function runMergeStep(ctx: WorkspaceContext, merge: MergeRecord, options: MergeStepOptions = {}): Promise<MergeRecord> {
  const task = findTask(ctx.manifests, merge.task);
  try {
    if (task === undefined) throw new NotFoundError(`task ${merge.task} is no longer in the manifests`);
    const outcome = await attemptMerge(ctx, merge, task, options);
    if (outcome.kind === "conflict") await immediateTransaction(ctx.db, (trx) => recordConflict({ ...ctx, db: trx }, merge, identity(task), outcome));
    else await recordMerged(ctx, merge, task, outcome);
  } catch (error) {
    if (!(error instanceof GafferError)) throw error;
    await recordFailure(ctx, merge, task, error);
  }
  return (await findMerge(ctx.db, merge.id))!;
}

async function attemptMerge(ctx: WorkspaceContext, merge: MergeRecord, task: TaskManifest, options: MergeStepOptions): Promise<Outcome> {
  const subject = `task/${merge.task}`;
  const gate = taskGate(ctx.manifests, task);
  const missing = missingGateReason(gate);
  if (missing !== null) throw await policyRefusal(ctx, { rule: "GATE_REQUIRED", subject, message: `${missing}; a merge needs a passing gate: add gate.commands to Task/${merge.task} or its stage`, details: { merge: merge.id } });
  if (gate!.review === "required" && options.reviewer === undefined) {
    throw await policyRefusal(ctx, { rule: "REVIEW_REQUIRED", subject, message: `the gate of task ${merge.task} requires a review verdict and none is available; run the reviewer, or set gate.review: none`, details: { merge: merge.id } });
  }
  const worktree = await findActiveWorktree(ctx.db, merge.task);
  if (worktree === null) {
    // Landed by a process whose lease was broken before it could record it: done, from git's evidence.
    const landed = await findLandedInGit(ctx, merge.task);
    if (landed !== null) return { kind: "merged", headSha: landed.sha, mergeSha: landed.sha, from: landed.sha, synced: [] };
    throw new NotFoundError(`task ${merge.task} has no worktree to merge from; create it (gaffer worktree create --task ${merge.task})`);
  }
  await immediateTransaction(ctx.db, (trx) => tellTask(ctx, trx, identity(task), { event: { type: "task.merge.started" }, reason: `merge ${merge.id} started` }));
  const { targetHead, branchHead, plan } = await prepareWorktree(ctx, merge, worktree, options.objects);
  const update = plan !== null ? await landPlanInWorktree(ctx, merge, worktree.path, plan).then(() => ({ kind: "done" as const })) : await bringUpToDate(ctx, { merge, path: worktree.path, targetHead, branchHead });
  if (update.kind === "conflict") {
    const hunks = await readConflictHunks(worktree.path, update.files, merge.strategy === "rebase");
    await ctx.git.abortInProgress(worktree.path);
    return { kind: "conflict", files: update.files, hunks, branchHead, targetHead };
  }
  const headSha = (await ctx.git.resolveCommit(worktree.path, "HEAD"))!;
  await checkProtectedPaths(ctx, { task: merge.task, what: `merge ${merge.id}`, paths: changedProtectedPaths(ctx, { cwd: worktree.path, from: targetHead, to: headSha, ...(options.objects === undefined ? {} : { objects: options.objects }) }) });
  const result = await runGate({ db: ctx.db, actor: ctx.actor, task: merge.task, worktree: worktree.path, gate: gate!, headSha, ...(options.reviewer === undefined ? {} : { reviewer: options.reviewer }) });
  await immediateTransaction(ctx.db, (trx) => tellTask(ctx, trx, identity(task), { event: { type: "task.gate.ran" }, reason: `gate ${result.passed ? "passed" : "failed"} on ${headSha.slice(0, 12)} for merge ${merge.id}` }));
  if (!result.passed) {
    throw await policyRefusal(ctx, { rule: "GATE_REQUIRED", subject, message: `the gate did not pass on ${headSha.slice(0, 12)} (${result.reason}); ${merge.target} was not touched: fix the branch, commit, and merge again`, details: { merge: merge.id, headSha, attempt: result.attempt, gates: result.commands.map((c) => c.id) } });
  }
  const landed = await fastForwardIntegration(ctx, { task: merge.task, target: merge.target, from: targetHead, to: headSha, descendantKnown: true });
  if (landed.kind === "moved") throw new GitError(`${merge.target} moved while task ${merge.task} was being gated; nothing was merged, run \`gaffer merge --task ${merge.task}\` again`);
  return { kind: "merged", headSha, mergeSha: headSha, from: targetHead, synced: landed.synced };
}

/**
 * Recovers an interrupted merge/rebase and checks the worktree is on the
 * branch; computes the merge from the commits when it can (then the clean
 * tree is checked by the fast-forward to it), else checks here that nothing
 * is uncommitted.
 */
async function prepareWorktree(ctx: WorkspaceContext, merge: MergeRecord, worktree: WorktreeRecord, objects: GitObjectReader | undefined): Promise<{ targetHead: string; branchHead: string; plan: MergePlan | null }> {
  await ctx.git.abortInProgress(worktree.path);
  const branch = await ctx.git.currentBranch(worktree.path);
  if (branch !== merge.branch) {
    throw await policyRefusal(ctx, { rule: "WRONG_BRANCH", subject: `task/${merge.task}`, message: `the worktree of task ${merge.task} is on ${branch ?? "a detached HEAD"}, not ${merge.branch}; switch back (git switch ${merge.branch}) and merge again`, details: { merge: merge.id } });
  }
  const targetHead = await ctx.git.resolveCommit(targetRepoPath(ctx), `refs/heads/${merge.target}`);
  const plan = targetHead === null ? null : await planMerge(ctx, { merge, path: worktree.path, targetHead, ...(objects === undefined ? {} : { objects }) });
  if (plan !== null) return { targetHead: plan.targetHead, branchHead: plan.branchHead, plan };
  const unclean = await uncommittedError(ctx, merge, worktree.path);
  if (unclean !== null) throw unclean;
  if (targetHead === null) throw new NotFoundError(`integration branch ${merge.target} does not exist`);
  return { targetHead, branchHead: (await ctx.git.resolveCommit(worktree.path, "HEAD"))!, plan: null };
}

async function recordMerged(ctx: WorkspaceContext, merge: MergeRecord, task: TaskManifest, outcome: Extract<Outcome, { kind: "merged" }>): Promise<void> {
  await immediateTransaction(ctx.db, async (trx) => {
    await setMergeState(trx, merge.id, { state: "merged", headSha: outcome.headSha, mergeSha: outcome.mergeSha, reason: null });
    await appendEvent(trx, { actor: ctx.actor, action: "MergeSucceeded", subject: `task/${merge.task}`, commitSha: outcome.mergeSha, payload: { merge: merge.id, branch: merge.branch, target: merge.target, strategy: merge.strategy, from: outcome.from, to: outcome.mergeSha, syncedCheckouts: outcome.synced } });
    await tellTask(ctx, trx, identity(task), { event: { type: "task.merged" }, reason: `merged into ${merge.target} at ${outcome.mergeSha.slice(0, 12)}` });
  });
  if (ctx.config.policy.worktreeRetention === "remove-after-merge") {
    await removeWorktree(ctx, merge.task).catch((error: unknown) => appendEvent(ctx.db, { actor: ctx.actor, action: "WorktreeRetentionFailed", subject: `task/${merge.task}`, payload: { error: (error as Error).message } }));
  }
}

/** A refusal or failure: the row says `CODE: message`; the task goes back to Working, or Failed once gate attempts run out. */
async function recordFailure(ctx: WorkspaceContext, merge: MergeRecord, task: TaskManifest | undefined, error: GafferError): Promise<void> {
  const state = error instanceof PolicyError ? "refused" : "failed";
  await immediateTransaction(ctx.db, async (trx) => {
    await setMergeState(trx, merge.id, { state, reason: `${error.code}: ${error.message}` });
    await appendEvent(trx, { actor: ctx.actor, action: state === "refused" ? "MergeRefused" : "MergeFailed", subject: `task/${merge.task}`, payload: { merge: merge.id, code: error.code, message: error.message } });
    if (task === undefined) return;
    const attempts = (await trx.selectFrom("tasks").select("gate_attempts").where("name", "=", merge.task).executeTakeFirst())?.gate_attempts ?? 0;
    const exhausted = attemptsExhausted(attempts, ctx.config.policy.maxGateAttempts);
    await tellTask(ctx, trx, identity(task), { event: { type: "task.merge.failed", feedback: `${error.code}: ${error.message}` }, reason: exhausted ? `gate failed ${attempts} times (policy.maxGateAttempts)` : `merge ${merge.id} ${state}: ${error.code}`, evidence: { merge: merge.id, code: error.code } });
  });
}

/** The error a finished, unmerged row stands for (its reason is `CODE: message`). */
export function mergeError(record: MergeRecord): GafferError {
  const reason = record.reason ?? `merge ${record.id} ended ${record.state}`;
  const match = /^([A-Z_]+): ([\s\S]*)$/.exec(reason);
  const [code, message] = match === null ? ["", reason] : [match[1]!, match[2]!];
  if (code.startsWith("POLICY_")) return new PolicyError(code.slice("POLICY_".length), message, { details: { merge: record.id } });
  const details = { merge: record.id, files: record.conflictedFiles };
  if (record.state === "conflict") return new MergeConflictError(message, { details });
  if (code === "MERGE_BLOCKED") return new MergeBlockedError(message, { details });
  if (code === "NOT_FOUND") return new NotFoundError(message, { details });
  return new GitError(message, { details });
}
