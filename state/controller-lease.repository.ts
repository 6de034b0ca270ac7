import { leaveOutOfChangeStamp } from "./dialect.js";
import { appendEvent } from "./events.repository.js";
import type { ControllerLeaseRow } from "./controller-lease.table.js";
import { immediateTransaction, nowIso, type Ledger } from "./ledger.js";

const LEASE = "controller";

/** The controller lease as recorded in the ledger. */
export interface ControllerLease {
  readonly holder: string;
  readonly pid: number;
  readonly host: string;
  /** `<boot id>:<start ticks>` of the holding process, null when unknown. */
  readonly processStart: string | null;
  readonly acquiredAt: string;
  readonly heartbeatAt: string;
  readonly expiresAt: string;
}

/** Who asks for the lease. */
export interface LeaseClaim {
  readonly holder: string;
  readonly pid: number;
  readonly host: string;
  readonly processStart: string | null;
  /** The ledger's `actor` for the event row. */
  readonly actor: string;
}

/** Taken (with why the previous holder, if any, no longer counts), or held by someone else. */
export type LeaseOutcome = { readonly taken: true; readonly previous: ControllerLease | null; readonly reason: string } | { readonly taken: false; readonly lease: ControllerLease };

function toLease(row: ControllerLeaseRow): ControllerLease {
  return { holder: row.holder, pid: row.pid, host: row.host, processStart: row.process_start, acquiredAt: row.acquired_at, heartbeatAt: row.heartbeat_at, expiresAt: row.expires_at };
}

/** The current lease row (expired or not), or null. */
export async function readControllerLease(db: Ledger): Promise<ControllerLease | null> {
  const row = await db.selectFrom("controller_lease").selectAll().where("name", "=", LEASE).executeTakeFirst();
  return row === undefined ? null : toLease(row);
}

/**
 * Takes the lease in one BEGIN IMMEDIATE transaction (so two processes can
 * never both win), when there is none or `takeOver` says why the current
 * holder no longer counts (expired, dead); records `ControllerLeaseAcquired`
 * in the same transaction.
 */
export async function claimControllerLease(db: Ledger, claim: LeaseClaim, options: { readonly ttlMs: number; readonly takeOver: (lease: ControllerLease) => string | null }): Promise<LeaseOutcome> {
  return immediateTransaction(db, async (trx): Promise<LeaseOutcome> => {
    const row = await trx.selectFrom("controller_lease").selectAll().where("name", "=", LEASE).executeTakeFirst();
    const previous = row === undefined ? null : toLease(row);
    const reason = previous === null ? "free" : options.takeOver(previous);
    if (previous !== null && reason === null) return { taken: false, lease: previous };
    const now = Date.now();
    const values = { holder: claim.holder, pid: claim.pid, host: claim.host, process_start: claim.processStart, acquired_at: new Date(now).toISOString(), heartbeat_at: new Date(now).toISOString(), expires_at: new Date(now + options.ttlMs).toISOString() };
    await trx.insertInto("controller_lease").values({ name: LEASE, ...values }).onConflict((oc) => oc.column("name").doUpdateSet(values)).execute();
    await appendEvent(trx, { actor: claim.actor, action: "ControllerLeaseAcquired", subject: "controller", payload: { holder: claim.holder, pid: claim.pid, host: claim.host, ttlMs: options.ttlMs, reason, previous } });
    return { taken: true, previous, reason: reason! };
  });
}

/** Extends the lease while `holder` still has it; false when it was taken over (or released). */
export async function renewControllerLease(db: Ledger, holder: string, ttlMs: number): Promise<boolean> {
  const now = Date.now();
  const result = await db
    .updateTable("controller_lease")
    .set({ heartbeat_at: new Date(now).toISOString(), expires_at: new Date(now + ttlMs).toISOString() })
    .where("name", "=", LEASE)
    .where("holder", "=", holder)
    .executeTakeFirst();
  leaveOutOfChangeStamp(db, Number(result.numUpdatedRows));
  return Number(result.numUpdatedRows) === 1;
}

/** Gives the lease up (a clean stop); only its own holder can. */
export async function releaseControllerLease(db: Ledger, holder: string, actor: string): Promise<void> {
  await immediateTransaction(db, async (trx) => {
    const result = await trx.deleteFrom("controller_lease").where("name", "=", LEASE).where("holder", "=", holder).executeTakeFirst();
    if (Number(result.numDeletedRows) === 1) await appendEvent(trx, { actor, action: "ControllerLeaseReleased", subject: "controller", payload: { holder, at: nowIso() } });
  });
}
