import { randomUUID } from "node:crypto";
import { appendEvent } from "./events.repository.js";
import { immediateTransaction, nowIso, type Ledger } from "./ledger.js";

export interface ReservationRequest {
  readonly agent: string;
  readonly role: string;
  readonly stage?: string | null;
  readonly task?: string | null;
  /** Who holds it: a session id, or `pending:<task>` while a session starts. */
  readonly holder: string;
  readonly actor: string;
  /** The agent host to hold the slot on; left out when hosts are listed: the one with the most free slots. */
  readonly host?: string | null;
}

export interface Reservation {
  readonly id: string;
  readonly agent: string;
  readonly role: string;
  readonly holder: string;
  readonly state: "held" | "released";
  readonly acquiredAt: string;
  readonly releasedAt: string | null;
  /** The agent host the slot is on, null for this machine. */
  readonly host: string | null;
}

/** Slots held now, counted from the ledger. */
export async function readCapacityUsage(db: Ledger): Promise<HeldCapacity> {
  const rows = await db.selectFrom("reservations").select(["agent", "role", "host"]).where("state", "=", "held").execute();
  const byAgent: Record<string, number> = {};
  const byRole: Record<string, number> = {};
  const byHost: Record<string, number> = {};
  for (const row of rows) {
    byAgent[row.agent] = (byAgent[row.agent] ?? 0) + 1;
    byRole[row.role] = (byRole[row.role] ?? 0) + 1;
    if (row.host !== null) byHost[row.host] = (byHost[row.host] ?? 0) + 1;
  }
  return { global: rows.length, byAgent, byRole, ...(Object.keys(byHost).length === 0 ? {} : { byHost }) };
}

/** Slots held now, as counted from the ledger (core/capacity.ts's CapacityUsage has this shape). */
export interface HeldCapacity {
  readonly global: number;
  readonly byAgent: Readonly<Record<string, number>>;
  readonly byRole: Readonly<Record<string, number>>;
  readonly byHost?: Readonly<Record<string, number>>;
}

/** A decision on one request, taken on the usage read inside the reservation's transaction. */
export type SlotDecision<R extends object> = { readonly refused: R; readonly host: string | null } | { readonly refused: null; readonly host: string | null; readonly limit: number };

/**
 * Reads the usage, asks `decide` (the capacity rules) and takes the slot, in
 * a single BEGIN IMMEDIATE transaction, so processes racing for the last
 * slot can never both win. A refusal is itself ledgered (`CapacityRefused`)
 * and returned; the caller raises it.
 */
export async function takeSlot<R extends object>(db: Ledger, request: ReservationRequest, decide: (usage: HeldCapacity) => SlotDecision<R>): Promise<{ readonly refused: R } | { readonly reservation: Reservation }> {
  return immediateTransaction(db, async (trx): Promise<{ refused: R } | { reservation: Reservation }> => {
    const usage = await readCapacityUsage(trx);
    const decision = decide(usage);
    const host = decision.host;
    const subject = request.task ? `task/${request.task}` : `agent/${request.agent}`;
    if (!("limit" in decision)) {
      await appendEvent(trx, { actor: request.actor, action: "CapacityRefused", subject, payload: { ...decision.refused, agent: request.agent, role: request.role, holder: request.holder, ...(host === null ? {} : { host }) } });
      return { refused: decision.refused };
    }
    const reservation: Reservation = { id: randomUUID(), agent: request.agent, role: request.role, holder: request.holder, state: "held", acquiredAt: nowIso(), releasedAt: null, host };
    await trx
      .insertInto("reservations")
      .values({ id: reservation.id, agent: reservation.agent, role: reservation.role, stage: request.stage ?? null, task: request.task ?? null, holder: reservation.holder, state: "held", acquired_at: reservation.acquiredAt, released_at: null, host })
      .execute();
    await appendEvent(trx, { actor: request.actor, action: "CapacityReserved", subject, payload: { reservation: reservation.id, agent: request.agent, role: request.role, holder: request.holder, inUse: usage.global + 1, limit: decision.limit, ...(host === null ? {} : { host }) } });
    return { reservation };
  });
}

/** Releases a slot; releasing twice is a no-op that returns false. */
export async function releaseCapacity(db: Ledger, id: string, actor: string, reason = "released"): Promise<boolean> {
  return immediateTransaction(db, async (trx) => {
    const result = await trx.updateTable("reservations").set({ state: "released", released_at: nowIso() }).where("id", "=", id).where("state", "=", "held").executeTakeFirst();
    if (result.numUpdatedRows === 0n) return false;
    const row = await trx.selectFrom("reservations").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
    await appendEvent(trx, { actor, action: "CapacityReleased", subject: row.task ? `task/${row.task}` : `agent/${row.agent}`, payload: { reservation: id, agent: row.agent, role: row.role, holder: row.holder, reason } });
    return true;
  });
}

/** Re-points a held reservation at its final holder (a session id once the session exists). */
export async function setReservationHolder(db: Ledger, id: string, holder: string): Promise<void> {
  await db.updateTable("reservations").set({ holder }).where("id", "=", id).execute();
}

/**
 * Releases slots held by nobody: their session is closed or failed, or it was
 * never recorded (a process died between reserving and recording the session)
 * and the reservation is older than `pendingGraceMs`, longer than any start.
 */
export async function releaseOrphanedReservations(db: Ledger, actor: string, pendingGraceMs = 180_000): Promise<number> {
  const held = await db.selectFrom("reservations").leftJoin("sessions", "sessions.id", "reservations.holder").select(["reservations.id", "reservations.holder", "reservations.acquired_at", "sessions.state"]).where("reservations.state", "=", "held").execute();
  const cutoff = Date.now() - pendingGraceMs;
  let released = 0;
  for (const row of held) {
    const closed = row.state === "Closed" || row.state === "Failed";
    const orphan = row.state === null && Date.parse(row.acquired_at) < cutoff;
    if ((closed || orphan) && (await releaseCapacity(db, row.id, actor, closed ? `its session is ${row.state}` : "no session was ever recorded for it"))) released++;
  }
  return released;
}
