import type { Ledger } from "./ledger.js";
import { nowIso } from "./ledger.js";
import type { MergeRow } from "./workflow.table.js";

export type MergeState = "queued" | "running" | "merged" | "conflict" | "refused" | "failed";

/** One request to land a task's branch on an integration branch. */
export interface MergeRecord {
  readonly id: number;
  readonly task: string;
  readonly branch: string;
  readonly target: string;
  readonly strategy: string;
  readonly state: MergeState;
  /** The branch head that was gated (after bringing it up to date). */
  readonly headSha: string | null;
  /** The integration head after the merge. */
  readonly mergeSha: string | null;
  readonly conflictedFiles: readonly string[] | null;
  readonly reason: string | null;
  readonly requestedAt: string;
  readonly finishedAt: string | null;
}

export const OPEN_MERGE_STATES: readonly MergeState[] = ["queued", "running"];

function toRecord(row: MergeRow): MergeRecord {
  return {
    id: row.id, task: row.task, branch: row.branch, target: row.target, strategy: row.strategy, state: row.state as MergeState,
    headSha: row.head_sha, mergeSha: row.merge_sha, conflictedFiles: row.conflicted_files === null ? null : (JSON.parse(row.conflicted_files) as string[]),
    reason: row.reason, requestedAt: row.requested_at, finishedAt: row.finished_at,
  };
}

export async function findMerge(db: Ledger, id: number): Promise<MergeRecord | null> {
  const row = await db.selectFrom("merges").selectAll().where("id", "=", id).executeTakeFirst();
  return row === undefined ? null : toRecord(row);
}

/** The task's queued or running merge, if any. */
export async function findOpenMerge(db: Ledger, task: string): Promise<MergeRecord | null> {
  const row = await db.selectFrom("merges").selectAll().where("task", "=", task).where("state", "in", OPEN_MERGE_STATES).orderBy("id").executeTakeFirst();
  return row === undefined ? null : toRecord(row);
}

export async function listMerges(db: Ledger, filter: { readonly task?: string; readonly target?: string } = {}): Promise<MergeRecord[]> {
  let query = db.selectFrom("merges").selectAll().orderBy("id");
  if (filter.task !== undefined) query = query.where("task", "=", filter.task);
  if (filter.target !== undefined) query = query.where("target", "=", filter.target);
  return (await query.execute()).map(toRecord);
}

export async function insertMerge(db: Ledger, merge: { readonly task: string; readonly branch: string; readonly target: string; readonly strategy: string }): Promise<MergeRecord> {
  const row = await db
    .insertInto("merges")
    .values({ ...merge, state: "queued", head_sha: null, merge_sha: null, conflicted_files: null, reason: null, requested_at: nowIso(), finished_at: null })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toRecord(row);
}

/** The oldest queued merge into `target` (request order). */
export async function oldestQueuedMerge(db: Ledger, target: string): Promise<MergeRecord | null> {
  const row = await db.selectFrom("merges").selectAll().where("target", "=", target).where("state", "=", "queued").orderBy("id").executeTakeFirst();
  return row === undefined ? null : toRecord(row);
}

export async function setMergeState(db: Ledger, id: number, change: { readonly state: MergeState; readonly headSha?: string | null; readonly mergeSha?: string | null; readonly conflictedFiles?: readonly string[] | null; readonly reason?: string | null }): Promise<void> {
  const finished = change.state !== "queued" && change.state !== "running";
  await db
    .updateTable("merges")
    .set({
      state: change.state,
      ...(change.headSha === undefined ? {} : { head_sha: change.headSha }),
      ...(change.mergeSha === undefined ? {} : { merge_sha: change.mergeSha }),
      ...(change.conflictedFiles === undefined ? {} : { conflicted_files: change.conflictedFiles === null ? null : JSON.stringify(change.conflictedFiles) }),
      ...(change.reason === undefined ? {} : { reason: change.reason }),
      finished_at: finished ? nowIso() : null,
    })
    .where("id", "=", id)
    .execute();
}

/** Puts `running` merges of `target` back in the queue (their process died holding the lease). */
export async function requeueRunningMerges(db: Ledger, target: string): Promise<number[]> {
  const rows = await db.selectFrom("merges").select("id").where("target", "=", target).where("state", "=", "running").execute();
  if (rows.length > 0) await db.updateTable("merges").set({ state: "queued" }).where("target", "=", target).where("state", "=", "running").execute();
  return rows.map((r) => r.id);
}

/** The lease on an integration branch's queue. */
export interface MergeLease {
  readonly target: string;
  readonly holder: string;
  readonly mergeId: number | null;
  readonly acquiredAt: string;
  readonly expiresAt: string;
}

export async function readMergeLease(db: Ledger, target: string): Promise<MergeLease | null> {
  const row = await db.selectFrom("merge_leases").selectAll().where("target", "=", target).executeTakeFirst();
  return row === undefined ? null : { target: row.target, holder: row.holder, mergeId: row.merge_id, acquiredAt: row.acquired_at, expiresAt: row.expires_at };
}

/** Takes or renews the lease (call inside a BEGIN IMMEDIATE transaction after checking it is free). */
export async function writeMergeLease(db: Ledger, lease: { readonly target: string; readonly holder: string; readonly mergeId: number | null; readonly ttlMs: number }): Promise<void> {
  const now = Date.now();
  const values = { target: lease.target, holder: lease.holder, merge_id: lease.mergeId, acquired_at: new Date(now).toISOString(), expires_at: new Date(now + lease.ttlMs).toISOString() };
  await db.insertInto("merge_leases").values(values).onConflict((oc) => oc.column("target").doUpdateSet({ holder: values.holder, merge_id: values.merge_id, expires_at: values.expires_at })).execute();
}

export async function deleteMergeLease(db: Ledger, target: string, holder: string): Promise<void> {
  await db.deleteFrom("merge_leases").where("target", "=", target).where("holder", "=", holder).execute();
}
