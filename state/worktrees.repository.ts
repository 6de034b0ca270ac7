import { randomUUID } from "node:crypto";
import type { Ledger } from "./ledger.js";
import { nowIso } from "./ledger.js";
import type { WorktreeRow } from "./worktrees.table.js";

/** A task's worktree as the ledger knows it. */
export interface WorktreeRecord {
  readonly id: string;
  readonly task: string;
  readonly stage: string;
  readonly role: string;
  /** Absolute path of the checkout. */
  readonly path: string;
  readonly branch: string;
  /** The integration head the branch started from (or the branch head when adopted). */
  readonly baseSha: string;
  readonly state: "active" | "removed";
  readonly createdAt: string;
  readonly removedAt: string | null;
}

export interface NewWorktree {
  readonly task: string;
  readonly stage: string;
  readonly role: string;
  readonly path: string;
  readonly branch: string;
  readonly baseSha: string;
}

function toRecord(row: WorktreeRow): WorktreeRecord {
  return { id: row.id, task: row.task, stage: row.stage, role: row.role, path: row.path, branch: row.branch, baseSha: row.base_sha, state: row.state as WorktreeRecord["state"], createdAt: row.created_at, removedAt: row.removed_at };
}

export async function findActiveWorktree(db: Ledger, task: string): Promise<WorktreeRecord | null> {
  const row = await db.selectFrom("worktrees").selectAll().where("task", "=", task).where("state", "=", "active").orderBy("created_at", "desc").executeTakeFirst();
  return row === undefined ? null : toRecord(row);
}

/** Worktree rows, oldest first; only active ones unless `all`. */
export async function listWorktreeRecords(db: Ledger, options: { readonly all?: boolean } = {}): Promise<WorktreeRecord[]> {
  let query = db.selectFrom("worktrees").selectAll().orderBy("created_at").orderBy("id");
  if (options.all !== true) query = query.where("state", "=", "active");
  return (await query.execute()).map(toRecord);
}

/** Inserts an active row (call inside the transaction that appends its event). */
export async function insertWorktree(db: Ledger, worktree: NewWorktree): Promise<WorktreeRecord> {
  const row: WorktreeRow = { id: randomUUID(), task: worktree.task, stage: worktree.stage, role: worktree.role, path: worktree.path, branch: worktree.branch, base_sha: worktree.baseSha, state: "active", created_at: nowIso(), removed_at: null };
  await db.insertInto("worktrees").values(row).execute();
  return toRecord(row);
}

export async function markWorktreeRemoved(db: Ledger, id: string): Promise<void> {
  await db.updateTable("worktrees").set({ state: "removed", removed_at: nowIso() }).where("id", "=", id).execute();
}
