import { randomUUID } from "node:crypto";
import { checkCapacity, pickHost, usesHosts, type CapacityExceeded, type CapacityLimits, type CapacityUsage } from "../controller/core/capacity.js";
import { CapacityExceededError } from "./errors.js";
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
export async function readCapacityUsage(db: Ledger): Promise<CapacityUsage> {
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

/**
 * Checks and takes one slot in a single BEGIN IMMEDIATE transaction, so
 * processes racing for the last slot can never both win. A refusal is itself
 * ledgered (`CapacityRefused`) and thrown as CAPACITY_EXCEEDED with the reason.
 */
export async function reserveCapacity(db: Ledger, limits: CapacityLimits, request: ReservationRequest): Promise<Reservation> {
  const outcome = await immediateTransaction(db, async (trx): Promise<{ refused: CapacityExceeded } | { reservation: Reservation }> => {
    const usage = await readCapacityUsage(trx);
    // The host is chosen inside the transaction, so racing reservations never pick the same last slot.
    const picked = request.host !== undefined ? request.host : usesHosts(limits) ? pickHost(limits, usage) : null;
    // No host with a free slot: checked against all hosts together, so the refusal names the host scope.
    const refused = checkCapacity(limits, usage, { ...request, host: request.host === undefined && picked === null && usesHosts(limits) ? undefined : picked });
    const host = picked;
    const subject = request.task ? `task/${request.task}` : `agent/${request.agent}`;
    if (refused !== null) {
      await appendEvent(trx, { actor: request.actor, action: "CapacityRefused", subject, payload: { ...refused, agent: request.agent, role: request.role, holder: request.holder, ...(host === null ? {} : { host }) } });
      return { refused };
    }
    const reservation: Reservation = { id: randomUUID(), agent: request.agent, role: request.role, holder: request.holder, state: "held", acquiredAt: nowIso(), releasedAt: null, host };
    await trx
      .insertInto("reservations")
      .values({ id: reservation.id, agent: reservation.agent, role: reservation.role, stage: request.stage ?? null, task: request.task ?? null, holder: reservation.holder, state: "held", acquired_at: reservation.acquiredAt, released_at: null, host })
      .execute();
    await appendEvent(trx, { actor: request.actor, action: "CapacityReserved", subject, payload: { reservation: reservation.id, agent: request.agent, role: request.role, holder: request.holder, inUse: usage.global + 1, limit: limits.global, ...(host === null ? {} : { host }) } });
    return { reservation };
  });
  if ("refused" in outcome) {
    const r = outcome.refused;
    const raise = r.scope === "host" ? "raise the host's capacity in its AgentPool (or list another host)" : "raise spec.capacity";
    throw new CapacityExceededError(`${r.scope} limit ${r.scope === "global" ? "" : `for ${r.key} `}is ${r.limit} and ${r.inUse} ${r.inUse === 1 ? "is" : "are"} in use; close a session (\`gaffer session close ID\`) or ${raise}`, { details: { ...r } });
  }
  return outcome.reservation;
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
