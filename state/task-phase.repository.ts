import { appendEvent } from "./events.repository.js";
import type { Ledger } from "./ledger.js";
import { nowIso } from "./ledger.js";

/** A task's phase and attempt counters in the ledger. */
export interface TaskRecord {
  readonly name: string;
  readonly stage: string;
  readonly role: string;
  /** Pending | Provisioning | Working | Committing | Gating | Merging | Merged | Conflict | Resolving | Failed | Paused */
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

export async function readTaskRecord(db: Ledger, name: string): Promise<TaskRecord | null> {
  const row = await db.selectFrom("tasks").selectAll().where("name", "=", name).executeTakeFirst();
  if (row === undefined) return null;
  return { name: row.name, stage: row.stage, role: row.role, phase: row.phase, gateAttempts: row.gate_attempts, resolveAttempts: row.resolve_attempts, updatedAt: row.updated_at };
}

/**
 * Sets a task's phase (creating the row if missing) and appends a
 * `TaskPhaseChanged` event; call it inside the transaction of the change it
 * belongs to. A no-op when the phase is already `phase`.
 */
export async function setTaskPhase(db: Ledger, task: TaskIdentity, phase: string, event: { readonly actor: string; readonly reason: string; readonly evidence?: Readonly<Record<string, unknown>> }): Promise<void> {
  const current = await readTaskRecord(db, task.name);
  if (current?.phase === phase) return;
  const at = nowIso();
  if (current === null) await db.insertInto("tasks").values({ name: task.name, stage: task.stage, role: task.role, phase, updated_at: at }).execute();
  else await db.updateTable("tasks").set({ phase, updated_at: at }).where("name", "=", task.name).execute();
  await appendEvent(db, { actor: event.actor, action: "TaskPhaseChanged", subject: `task/${task.name}`, payload: { from: current?.phase ?? null, to: phase, reason: event.reason, ...(event.evidence === undefined ? {} : { evidence: event.evidence }) } });
}

/** Adds one to a counter of an existing task row and returns the new value. */
export async function bumpTaskCounter(db: Ledger, name: string, counter: "gate_attempts" | "resolve_attempts"): Promise<number> {
  await db.updateTable("tasks").set((eb) => ({ [counter]: eb(counter, "+", 1) })).where("name", "=", name).execute();
  const row = await db.selectFrom("tasks").select(counter).where("name", "=", name).executeTakeFirst();
  return row === undefined ? 0 : Number((row as Record<string, number>)[counter]);
}

/** Drops a task's persisted machine snapshot (a cancelled task added again under the same name starts afresh). */
export async function forgetTaskSnapshot(db: Ledger, name: string): Promise<void> {
  await db.updateTable("tasks").set({ snapshot: null }).where("name", "=", name).execute();
}
