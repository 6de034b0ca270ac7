/**
 * merge_worktree: a merge queue per integration branch. Requests are rows in
 * `merges` (request order = id); one process at a time holds the branch's
 * lease (`merge_leases`, taken in a BEGIN IMMEDIATE transaction) and lands
 * queued merges one by one (merge-step.ts). A lease whose holder died or
 * expired is broken and its running merge re-queued.
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { NotFoundError } from "../errors.js";
import type { GateReviewer } from "../gates/gate-runner.js";
import type { GitObjectReader } from "../ports.js";
import { appendEvent } from "../../state/events.repository.js";
import { immediateTransaction } from "../../state/ledger.js";
import { deleteMergeLease, findMerge, findOpenMerge, insertMerge, oldestQueuedMerge, readMergeLease, requeueRunningMerges, setMergeState, writeMergeLease, type MergeLease, type MergeRecord } from "../../state/merges.repository.js";
import { findActiveWorktree } from "../../state/worktrees.repository.js";
import { landedMergeRecord } from "./merge-evidence.js";
import { resolveMergeConflict, type ConflictResolver, type ResolveOutcome } from "./conflicts.js";
import { requireTask, targetRepoPath, type WorkspaceContext } from "./context.js";
import { runMergeStep } from "./merge-step.js";

export { mergeError } from "./merge-step.js";

export interface MergeQueueOptions {
  readonly reviewer?: GateReviewer;
  /** How long a lease lives without renewal (renewed before each merge). Default 15 min. */
  readonly leaseTtlMs?: number;
  /** How long `mergeWorktree` waits while another process works the queue. Default 30 min. */
  readonly waitTimeoutMs?: number;
}

const DEFAULT_LEASE_TTL_MS = 15 * 60_000;
const HOLDER = `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;

/**
 * Queues the task's branch for its integration branch; returns the existing
 * open request if there is one, or the landed merge when its work is already
 * on the integration branch (merged by any process, see merge-evidence.ts).
 */
export async function requestMerge(ctx: WorkspaceContext, taskName: string): Promise<MergeRecord> {
  requireTask(ctx, taskName);
  const worktree = await findActiveWorktree(ctx.db, taskName);
  const landed = worktree === null ? await landedMergeRecord(ctx, taskName) : null;
  if (landed !== null) return landed;
  if (worktree === null) throw new NotFoundError(`task ${taskName} has no worktree to merge; create it (gaffer worktree create --task ${taskName})`);
  return immediateTransaction(ctx.db, async (trx) => {
    const open = await findOpenMerge(trx, taskName);
    if (open !== null) return open;
    const merge = await insertMerge(trx, { task: taskName, branch: worktree.branch, target: ctx.config.integrationBranch, strategy: ctx.config.policy.mergeStrategy });
    await appendEvent(trx, { actor: ctx.actor, action: "MergeQueued", subject: `task/${taskName}`, payload: { merge: merge.id, branch: merge.branch, target: merge.target, strategy: merge.strategy } });
    return merge;
  });
}

function isLeaseStale(lease: MergeLease): boolean {
  if (Date.parse(lease.expiresAt) < Date.now()) return true;
  const [host, pid] = lease.holder.split("/");
  if (host !== hostname()) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/** Takes the lease and the oldest queued merge; `busy` when a live process holds the lease, null when the queue is empty. */
async function claimNext(ctx: WorkspaceContext, target: string, ttlMs: number): Promise<MergeRecord | "busy" | null> {
  return immediateTransaction(ctx.db, async (trx) => {
    const lease = await readMergeLease(trx, target);
    if (lease !== null && lease.holder !== HOLDER) {
      if (!isLeaseStale(lease)) return "busy";
      const requeued = await requeueRunningMerges(trx, target);
      await deleteMergeLease(trx, target, lease.holder);
      await appendEvent(trx, { actor: ctx.actor, action: "MergeLeaseBroken", subject: `branch/${target}`, payload: { holder: lease.holder, expiresAt: lease.expiresAt, requeued } });
    }
    const next = await oldestQueuedMerge(trx, target);
    if (next === null) {
      await deleteMergeLease(trx, target, HOLDER);
      return null;
    }
    await writeMergeLease(trx, { target, holder: HOLDER, mergeId: next.id, ttlMs });
    await setMergeState(trx, next.id, { state: "running" });
    await appendEvent(trx, { actor: ctx.actor, action: "MergeStarted", subject: `task/${next.task}`, payload: { merge: next.id, branch: next.branch, target, strategy: next.strategy, holder: HOLDER } });
    return { ...next, state: "running" as const };
  });
}

/**
 * Lands queued merges into `target`, oldest first, until the queue is empty.
 * Returns the rows this call finished; `busy` when another live process holds
 * the lease (it will work through the queue, ours included). The pass's
 * object-id lookups share one git process, closed at its end; git's auto
 * maintenance runs after a pass that finished a merge, at most once a minute.
 */
export async function processMergeQueue(ctx: WorkspaceContext, target: string, options: MergeQueueOptions = {}): Promise<{ readonly finished: readonly MergeRecord[]; readonly busy: boolean }> {
  const objects = ctx.git.openObjectReader(targetRepoPath(ctx));
  let result: { readonly finished: readonly MergeRecord[]; readonly busy: boolean };
  try {
    result = await workQueue(ctx, target, options, objects);
  } finally {
    await objects.close();
  }
  // NOTE: gaffer's git calls skip git's per-command auto maintenance; a check after a pass that made commits, at most
  // once a minute per repository, keeps the repo packed (git's own thresholds take thousands of objects to reach).
  if (result.finished.length > 0 && isMaintenanceDue(targetRepoPath(ctx))) await ctx.git.runAutoMaintenance(targetRepoPath(ctx)).catch(() => undefined);
  return result;
}

/** When this process last asked git's auto maintenance to look at a repository. */
const maintenanceCheckedAt = new Map<string, number>();
const MAINTENANCE_EVERY_MS = 60_000;

function isMaintenanceDue(repo: string): boolean {
  const last = maintenanceCheckedAt.get(repo);
  if (last !== undefined && Date.now() - last < MAINTENANCE_EVERY_MS) return false;
  maintenanceCheckedAt.set(repo, Date.now());
  return true;
}

async function workQueue(ctx: WorkspaceContext, target: string, options: MergeQueueOptions, objects: GitObjectReader): Promise<{ readonly finished: readonly MergeRecord[]; readonly busy: boolean }> {
  const finished: MergeRecord[] = [];
  for (;;) {
    const claimed = await claimNext(ctx, target, options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS);
    if (claimed === "busy") return { finished, busy: true };
    if (claimed === null) return { finished, busy: false };
    try {
      finished.push(await runMergeStep(ctx, claimed, { objects, ...(options.reviewer === undefined ? {} : { reviewer: options.reviewer }) }));
    } catch (error) {
      // An unexpected failure: give the lease up so the queue does not stall until it expires.
      await immediateTransaction(ctx.db, async (trx) => {
        await setMergeState(trx, claimed.id, { state: "failed", reason: `INTERNAL: ${(error as Error).message}` });
        await deleteMergeLease(trx, target, HOLDER);
      });
      throw error;
    }
  }
}

/** Queues the task and works the queue until its request is finished; returns that row (merged, conflict, refused or failed). */
export async function mergeWorktree(ctx: WorkspaceContext, taskName: string, options: MergeQueueOptions = {}): Promise<MergeRecord> {
  const landed = await landedMergeRecord(ctx, taskName);
  if (landed !== null) return landed;
  const request = await requestMerge(ctx, taskName);
  if (request.state === "merged") return request;
  const deadline = Date.now() + (options.waitTimeoutMs ?? 30 * 60_000);
  for (;;) {
    const { busy } = await processMergeQueue(ctx, request.target, options);
    const row = (await findMerge(ctx.db, request.id))!;
    if (row.state !== "queued" && row.state !== "running") return row;
    if (!busy || Date.now() > deadline) return row;
    await new Promise((r) => setTimeout(r, 250)); // another process holds the lease: poll its progress
  }
}

/** One resolve round; when it passes, the branch re-enters the queue and the queue is worked. */
export async function resolveAndRequeue(ctx: WorkspaceContext, taskName: string, options: MergeQueueOptions & { readonly resolver: ConflictResolver }): Promise<{ readonly outcome: ResolveOutcome; readonly merge: MergeRecord | null }> {
  const outcome = await resolveMergeConflict(ctx, taskName, { resolver: options.resolver, ...(options.reviewer === undefined ? {} : { reviewer: options.reviewer }) });
  if (!outcome.resolved) return { outcome, merge: null };
  return { outcome, merge: await mergeWorktree(ctx, taskName, options) };
}
