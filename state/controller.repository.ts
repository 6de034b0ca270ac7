import { appendEvent } from "./events.repository.js";
import { immediateTransaction, nowIso, type Ledger } from "./ledger.js";

/** A persisted machine: its phase and its xstate snapshot (JSON). */
export interface MachineRecord {
  readonly name: string;
  readonly phase: string;
  readonly snapshot: unknown | null;
}

function parse(snapshot: string | null): unknown | null {
  return snapshot === null ? null : (JSON.parse(snapshot) as unknown);
}

export async function loadStageRecords(db: Ledger): Promise<MachineRecord[]> {
  const rows = await db.selectFrom("stages").select(["name", "phase", "snapshot"]).execute();
  return rows.map((r) => ({ name: r.name, phase: r.phase, snapshot: parse(r.snapshot) }));
}

export async function loadTaskRecords(db: Ledger): Promise<(MachineRecord & { readonly revision: number })[]> {
  const rows = await db.selectFrom("tasks").select(["name", "phase", "snapshot", "revision"]).execute();
  return rows.map((r) => ({ name: r.name, phase: r.phase, snapshot: parse(r.snapshot), revision: Number(r.revision) }));
}

export interface SaveMachine {
  readonly name: string;
  readonly phase: string;
  readonly snapshot: unknown;
  readonly actor: string;
  /** Why the phase changed (machine reason, or the fact that moved it). */
  readonly reason: string | null;
  readonly generation?: string | null;
}

/** Saves a stage's snapshot; a phase change writes `StagePhaseChanged` in the same transaction. */
export async function saveStage(db: Ledger, stage: SaveMachine): Promise<boolean> {
  return immediateTransaction(db, async (trx) => {
    const current = await trx.selectFrom("stages").select(["phase"]).where("name", "=", stage.name).executeTakeFirst();
    const at = nowIso();
    const values = { phase: stage.phase, snapshot: JSON.stringify(stage.snapshot), updated_at: at, generation: stage.generation ?? null };
    if (current === undefined) await trx.insertInto("stages").values({ name: stage.name, plan_digest: null, started_at: null, finished_at: null, ...values }).execute();
    else await trx.updateTable("stages").set(values).where("name", "=", stage.name).execute();
    if (current?.phase === stage.phase) return false;
    if (stage.phase === "Running") await trx.updateTable("stages").set({ started_at: at }).where("name", "=", stage.name).where("started_at", "is", null).execute();
    if (stage.phase === "Passed" || stage.phase === "Failed") await trx.updateTable("stages").set({ finished_at: at }).where("name", "=", stage.name).execute();
    await appendEvent(trx, { actor: stage.actor, action: "StagePhaseChanged", subject: `stage/${stage.name}`, payload: { from: current?.phase ?? null, to: stage.phase, reason: stage.reason } });
    return true;
  });
}

/** Targets paused by people: `project`, `stage/<name>`, `task/<name>`. */
export async function listPauses(db: Ledger): Promise<Set<string>> {
  const rows = await db.selectFrom("pauses").select("target").execute();
  return new Set(rows.map((r) => r.target));
}

/** Pauses a target (idempotent); returns false when it was already paused. */
export async function setPause(db: Ledger, target: string, actor: string, reason: string | null): Promise<boolean> {
  return immediateTransaction(db, async (trx) => {
    const existing = await trx.selectFrom("pauses").select("target").where("target", "=", target).executeTakeFirst();
    if (existing !== undefined) return false;
    await trx.insertInto("pauses").values({ target, actor, reason, paused_at: nowIso() }).execute();
    await appendEvent(trx, { actor, action: "Paused", subject: target, payload: { reason } });
    return true;
  });
}

/** Resumes a target (idempotent); returns false when it was not paused. */
export async function clearPause(db: Ledger, target: string, actor: string): Promise<boolean> {
  return immediateTransaction(db, async (trx) => {
    const result = await trx.deleteFrom("pauses").where("target", "=", target).executeTakeFirst();
    if (result.numDeletedRows === 0n) return false;
    await appendEvent(trx, { actor, action: "Resumed", subject: target });
    return true;
  });
}
