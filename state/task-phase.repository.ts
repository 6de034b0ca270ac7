/**
 * A task's row: its phase, attempt counters and the task machine's
 * persisted snapshot, with a revision. Written only by the task machine's
 * store (controller/tasks/task-store.ts); everything else reads.
 */
import { appendEvent } from "./events.repository.js";
import type { Ledger } from "./ledger.js";
import { nowIso } from "./ledger.js";

/** A task's phase and attempt counters in the ledger. */
export interface TaskRecord {
  readonly name: string;
  readonly stage: string;
  readonly role: string;
  /** Pending | Provisioning | Working | Committing | Gating | Merging | Merged | Conflict | Resolving | Failed | Paused | Cancelled */
  readonly phase: string;
  readonly gateAttempts: number;
  readonly resolveAttempts: number;
  readonly updatedAt: string;
}

export interface TaskIdentity {
  readonly name: string;
  readonly stage: string;
  readonly role: string;
}

/** A task's row with its machine snapshot (parsed JSON, null when none) and revision. */
export interface TaskState extends TaskRecord {
  readonly snapshot: unknown | null;
  readonly revision: number;
}

export async function readTaskRecord(db: Ledger, name: string): Promise<TaskRecord | null> {
  const row = await db.selectFrom("tasks").selectAll().where("name", "=", name).executeTakeFirst();
  if (row === undefined) return null;
  return { name: row.name, stage: row.stage, role: row.role, phase: row.phase, gateAttempts: row.gate_attempts, resolveAttempts: row.resolve_attempts, updatedAt: row.updated_at };
}

/** A task's row with its snapshot and revision, or null. */
export async function readTaskState(db: Ledger, name: string): Promise<TaskState | null> {
  const row = await db.selectFrom("tasks").selectAll().where("name", "=", name).executeTakeFirst();
  if (row === undefined) return null;
  const snapshot = row.snapshot === null ? null : (JSON.parse(row.snapshot) as unknown);
  return { name: row.name, stage: row.stage, role: row.role, phase: row.phase, gateAttempts: row.gate_attempts, resolveAttempts: row.resolve_attempts, updatedAt: row.updated_at, snapshot, revision: row.revision };
}

/** Every task's revision, by name (a controller compares them with the revisions its actors hold). */
export async function readTaskRevisions(db: Ledger): Promise<Map<string, number>> {
  const rows = await db.selectFrom("tasks").select(["name", "revision"]).execute();
  return new Map(rows.map((r) => [r.name, Number(r.revision)]));
}

/** One write of a task machine's decision. */
export interface TaskStateWrite extends TaskIdentity {
  readonly phase: string;
  readonly snapshot: unknown;
  readonly gateAttempts: number;
  readonly resolveAttempts: number;
  /** The revision the writer loaded (null: no row yet); "any" overwrites whatever is there (a rebuild). */
  readonly expected: number | null | "any";
  readonly actor: string;
  /** Why the phase changed. */
  readonly reason: string | null;
  readonly evidence?: Readonly<Record<string, unknown>>;
}

/**
 * Writes a task's snapshot, phase and counters over the revision the writer
 * loaded, and a `TaskPhaseChanged` event when the phase moves; call it in the
 * transaction of the change it belongs to. Returns the new revision, or null
 * when the row moved on since (nothing written: the writer reloads).
 */
export async function writeTaskState(db: Ledger, write: TaskStateWrite): Promise<{ readonly revision: number; readonly moved: boolean } | null> {
  const current = await db.selectFrom("tasks").select(["phase", "revision"]).where("name", "=", write.name).executeTakeFirst();
  if (write.expected !== "any" && (current === undefined ? null : Number(current.revision)) !== write.expected) return null;
  const revision = (current === undefined ? 0 : Number(current.revision)) + 1;
  const values = { phase: write.phase, snapshot: JSON.stringify(write.snapshot), updated_at: nowIso(), gate_attempts: write.gateAttempts, resolve_attempts: write.resolveAttempts, revision };
  if (current === undefined) await db.insertInto("tasks").values({ name: write.name, stage: write.stage, role: write.role, ...values }).execute();
  else await db.updateTable("tasks").set(values).where("name", "=", write.name).execute();
  if (current?.phase === write.phase) return { revision, moved: false };
  await appendEvent(db, { actor: write.actor, action: "TaskPhaseChanged", subject: `task/${write.name}`, payload: { from: current?.phase ?? null, to: write.phase, reason: write.reason, ...(write.evidence === undefined ? {} : { evidence: write.evidence }) } });
  return { revision, moved: true };
}

/** Drops a task's persisted machine snapshot (a cancelled task added again under the same name starts afresh). */
export async function forgetTaskSnapshot(db: Ledger, name: string): Promise<void> {
  await db.updateTable("tasks").set({ snapshot: null }).where("name", "=", name).execute();
}
