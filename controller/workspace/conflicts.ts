/**
 * resolve_merge_conflict: a conflict found by the merge queue becomes a
 * `Conflict` task and a resolve job; a ConflictResolver (a resolver agent
 * session, or a person) resolves it in the worktree; gaffer verifies no
 * markers remain and the gate passes, then puts the branch back in the queue.
 * Every round is ledgered; after policy.maxResolveAttempts the task is Failed.
 */
import { attemptsExhausted } from "../machines/task.machine.js";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { buildResolvePrompt, extractConflictHunks, findConflictMarkers, type ConflictHunk } from "../core/resolve-prompt.js";
import { findTask } from "../core/project-config.js";
import { NotFoundError } from "../errors.js";
import { runGate, taskGate, type GateReviewer } from "../gates/gate-runner.js";
import { appendEvent } from "../../state/events.repository.js";
import { immediateTransaction } from "../../state/ledger.js";
import { setMergeState, type MergeRecord } from "../../state/merges.repository.js";
import { createResolveJob, latestResolveJob, updateResolveJob, type ResolveJob } from "../../state/resolve-jobs.repository.js";
import { readTaskRecord, type TaskIdentity } from "../../state/task-phase.repository.js";
import { findActiveWorktree } from "../../state/worktrees.repository.js";
import { tellTask, type WorkspaceContext } from "./context.js";

/** What the merge queue saw before it aborted. */
export interface ConflictFound {
  readonly files: readonly string[];
  readonly hunks: readonly ConflictHunk[];
  readonly branchHead: string;
  readonly targetHead: string;
}

/** What a resolver is asked to do. */
export interface ResolveRequest {
  readonly task: string;
  /** Absolute path of the task's worktree, where the resolution happens. */
  readonly worktree: string;
  readonly branch: string;
  readonly target: string;
  readonly conflictedFiles: readonly string[];
  /** The resolve prompt (core/resolve-prompt.ts). */
  readonly prompt: string;
}

/** Resolves a conflict in the worktree and commits the result (an agent session, or a person). */
export interface ConflictResolver {
  /** Resolves when the resolver reports done; throws when it gives up. */
  resolve(request: ResolveRequest): Promise<{ readonly summary: string }>;
}

/** Conflict regions of the files as they are mid-merge (read before aborting). Rebase swaps the sides. */
export async function readConflictHunks(worktree: string, files: readonly string[], rebase: boolean): Promise<ConflictHunk[]> {
  const hunks: ConflictHunk[] = [];
  for (const file of files) {
    const text = await readFile(join(worktree, file), "utf8").catch(() => "");
    for (const hunk of extractConflictHunks(file, text.slice(0, 200_000))) hunks.push(rebase ? { ...hunk, ours: hunk.theirs, theirs: hunk.ours } : hunk);
  }
  return hunks.slice(0, 20);
}

/** Ledgers a conflict (inside the merge's transaction): merge row, task phase, and the next resolve job, or Failed when rounds ran out. */
export async function recordConflict(ctx: WorkspaceContext, merge: MergeRecord, task: TaskIdentity, found: ConflictFound): Promise<void> {
  const files = found.files.join(", ");
  await setMergeState(ctx.db, merge.id, { state: "conflict", headSha: found.branchHead, conflictedFiles: found.files, reason: `MERGE_CONFLICT: merging ${merge.target} into ${merge.branch} conflicts in ${files}; the merge was aborted and a resolve job created (gaffer resolve --task ${merge.task} once resolved)` });
  await appendEvent(ctx.db, { actor: ctx.actor, action: "MergeConflict", subject: `task/${merge.task}`, payload: { merge: merge.id, files: found.files, branchHead: found.branchHead, targetHead: found.targetHead, aborted: true } });
  await openRound(ctx, task, { merge: merge.id, branch: merge.branch, target: merge.target, strategy: merge.strategy, ...found });
}

interface RoundFacts extends ConflictFound {
  readonly merge: number;
  readonly branch: string;
  readonly target: string;
  readonly strategy: string;
}

/** Creates the next resolve job and marks the task Conflict, or Failed when policy.maxResolveAttempts rounds were used. */
async function openRound(ctx: WorkspaceContext, task: TaskIdentity, facts: RoundFacts): Promise<void> {
  const used = (await readTaskRecord(ctx.db, task.name))?.resolveAttempts ?? 0;
  const max = ctx.config.policy.maxResolveAttempts;
  if (attemptsExhausted(used, max)) {
    await tellTask(ctx, ctx.db, task, { event: { type: "task.conflicted", files: facts.files }, reason: `conflict not resolved after ${used} round${used === 1 ? "" : "s"} (policy.maxResolveAttempts ${max})`, evidence: { merge: facts.merge, files: facts.files } });
    return;
  }
  const round = used + 1;
  const prompt = buildResolvePrompt({ task: task.name, branch: facts.branch, target: facts.target, branchHead: facts.branchHead, targetHead: facts.targetHead, files: facts.files, hunks: facts.hunks, round, maxRounds: max, strategy: facts.strategy as "merge" });
  // Job numbers never repeat: a retried task (its round counters reset) opens a new job, not its earlier round's finished one.
  const number = Math.max(used, (await latestResolveJob(ctx.db, task.name))?.round ?? 0) + 1;
  const job = await createResolveJob(ctx.db, { task: task.name, round: number, facts: { ...facts, prompt } });
  await tellTask(ctx, ctx.db, task, { event: { type: "task.conflicted", files: facts.files }, reason: `conflict in ${facts.files.join(", ")}`, evidence: { merge: facts.merge, job: job.key } });
  await appendEvent(ctx.db, { actor: ctx.actor, action: "ResolveJobCreated", subject: `task/${task.name}`, payload: { job: job.key, round: number, files: facts.files, branchHead: facts.branchHead, targetHead: facts.targetHead } });
}

export interface ResolveOutcome {
  readonly task: string;
  readonly round: number;
  readonly resolved: boolean;
  /** Why the round failed (markers left, gate failed, resolver gave up), null when resolved. */
  readonly reason: string | null;
  /** The task's phase afterwards: Merging (re-queued), Conflict (another round open) or Failed. */
  readonly phase: string;
}

export interface ResolveOptions {
  readonly resolver: ConflictResolver;
  readonly reviewer?: GateReviewer;
}

/**
 * Runs one resolve round for the task's open job: the resolver works, then
 * the worktree must hold no conflict markers, nothing uncommitted, and pass
 * the gate. The caller re-queues the merge when `resolved` (see merge-queue).
 */
export async function resolveMergeConflict(ctx: WorkspaceContext, taskName: string, options: ResolveOptions): Promise<ResolveOutcome> {
  const job = await latestResolveJob(ctx.db, taskName);
  const manifest = findTask(ctx.manifests, taskName);
  const worktree = await findActiveWorktree(ctx.db, taskName);
  if (job === null || job.state === "done" || job.state === "failed" || manifest === undefined || worktree === null) {
    const phase = (await readTaskRecord(ctx.db, taskName))?.phase ?? "unknown";
    throw new NotFoundError(`task ${taskName} has no open conflict to resolve (phase ${phase}); a conflict found by \`gaffer merge --task ${taskName}\` opens one`);
  }
  const task = { name: taskName, stage: manifest.spec.stage, role: manifest.spec.role };
  await immediateTransaction(ctx.db, async (trx) => {
    await updateResolveJob(trx, job.key, "running");
    await tellTask(ctx, trx, task, { event: { type: "task.resolve.started" }, reason: `resolve round ${job.round}` });
    await appendEvent(trx, { actor: ctx.actor, action: "ResolveStarted", subject: `task/${taskName}`, payload: { job: job.key, round: job.round, worktree: worktree.path } });
  });
  const facts = job.result as unknown as RoundFacts & { prompt: string };
  const problem = await runRound(ctx, job, { task: taskName, worktree: worktree.path, branch: facts.branch, target: facts.target, conflictedFiles: facts.files, prompt: facts.prompt }, options);
  return problem === null ? finishRound(ctx, task, job) : failRound(ctx, task, job, facts, problem);
}

/** The resolver's turn and the checks after it; returns the problem, or null when the round passed. */
async function runRound(ctx: WorkspaceContext, job: ResolveJob, request: ResolveRequest, options: ResolveOptions): Promise<{ reason: string; evidence: Record<string, unknown> } | null> {
  let summary: string;
  try {
    summary = (await options.resolver.resolve(request)).summary;
  } catch (error) {
    return { reason: `the resolver gave up: ${(error as Error).message}`, evidence: {} };
  }
  await updateResolveJob(ctx.db, job.key, "running", { summary });
  const status = await ctx.git.status(request.worktree);
  const unmerged = status.entries.filter((e) => e.code.includes("U") || e.code === "AA" || e.code === "DD");
  const findings = await ctx.git.conflictMarkerFindings(request.worktree, (job.result as { targetHead: string }).targetHead);
  const scanned: string[] = [];
  for (const file of request.conflictedFiles) {
    const text = await readFile(join(request.worktree, file), "utf8").catch(() => "");
    scanned.push(...findConflictMarkers(text).map((line) => `${file}:${line}`));
  }
  if (unmerged.length > 0 || findings.length > 0 || scanned.length > 0) {
    return { reason: `conflict markers remain (${[...new Set([...unmerged.map((e) => e.path), ...scanned, ...findings])].join(", ")}); remove them and commit`, evidence: { unmerged: unmerged.map((e) => e.path), diffCheck: findings, markers: scanned } };
  }
  const notIn = await missingTarget(ctx, request.worktree, job);
  if (notIn !== null) return { reason: notIn, evidence: {} };
  const dirty = status.entries.filter((e) => e.code !== "??");
  if (dirty.length > 0) return { reason: `the resolution is not committed (${dirty.map((e) => e.path).join(", ")}); commit it (gaffer commit --task ${request.task} -m MSG)`, evidence: { uncommitted: dirty.map((e) => e.path) } };
  const gate = taskGate(ctx.manifests, findTask(ctx.manifests, request.task)!);
  const headSha = await ctx.git.resolveCommit(request.worktree, "HEAD");
  const result = await runGate({ db: ctx.db, actor: ctx.actor, task: request.task, worktree: request.worktree, gate: gate ?? {}, headSha, ...(options.reviewer === undefined ? {} : { reviewer: options.reviewer }) });
  if (!result.passed) return { reason: `the gate did not pass after resolving: ${result.reason}`, evidence: { gateAttempt: result.attempt, gates: result.commands.map((c) => c.id) } };
  return null;
}

/** The resolution must contain the integration head it conflicted with (else the queue would just conflict again). */
async function missingTarget(ctx: WorkspaceContext, worktree: string, job: ResolveJob): Promise<string | null> {
  const { targetHead, target } = job.result as { targetHead: string; target: string };
  if (await ctx.git.isAncestor(worktree, targetHead, "HEAD")) return null;
  return `the branch does not contain ${target} at ${targetHead.slice(0, 12)} yet; in the worktree run \`git merge ${targetHead.slice(0, 12)}\` (or rebase onto it), resolve, and commit`;
}

/** Why a person's hand resolution is not ready yet (checked before a round is spent), or null. */
export async function handResolutionProblem(ctx: WorkspaceContext, taskName: string): Promise<string | null> {
  const job = await latestResolveJob(ctx.db, taskName);
  const worktree = await findActiveWorktree(ctx.db, taskName);
  if (job === null || worktree === null || job.state === "done" || job.state === "failed") return null; // resolveMergeConflict reports it
  const status = await ctx.git.status(worktree.path);
  const pending = status.entries.filter((e) => e.code !== "??").map((e) => e.path);
  if (pending.length > 0) return `the worktree has uncommitted changes (${pending.join(", ")}); remove the conflict markers and commit (gaffer commit --task ${taskName} -m MSG)`;
  return missingTarget(ctx, worktree.path, job);
}

async function finishRound(ctx: WorkspaceContext, task: TaskIdentity, job: ResolveJob): Promise<ResolveOutcome> {
  await immediateTransaction(ctx.db, async (trx) => {
    await updateResolveJob(trx, job.key, "done", { verified: { markers: "none", gate: "passed" } });
    await appendEvent(trx, { actor: ctx.actor, action: "ResolveSucceeded", subject: `task/${task.name}`, payload: { job: job.key, round: job.round } });
    await tellTask(ctx, trx, task, { event: { type: "task.resolved" }, reason: `conflict resolved in round ${job.round}; back in the merge queue` });
  });
  return { task: task.name, round: job.round, resolved: true, reason: null, phase: "Merging" };
}

async function failRound(ctx: WorkspaceContext, task: TaskIdentity, job: ResolveJob, facts: RoundFacts, problem: { reason: string; evidence: Record<string, unknown> }): Promise<ResolveOutcome> {
  await immediateTransaction(ctx.db, async (trx) => {
    await updateResolveJob(trx, job.key, "failed", { failure: problem.reason, evidence: problem.evidence });
    await appendEvent(trx, { actor: ctx.actor, action: "ResolveFailed", subject: `task/${task.name}`, payload: { job: job.key, round: job.round, reason: problem.reason, evidence: problem.evidence } });
    await openRound({ ...ctx, db: trx }, task, facts);
  });
  const phase = (await readTaskRecord(ctx.db, task.name))?.phase ?? "Conflict";
  return { task: task.name, round: job.round, resolved: false, reason: problem.reason, phase };
}
