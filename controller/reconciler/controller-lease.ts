/**
 * One controller per control dir: a lease row in the ledger (holder, pid,
 * host, process start, heartbeat, expiry), taken in one BEGIN IMMEDIATE
 * transaction, renewed by a heartbeat, released on a clean stop. A holder
 * that stopped renewing is taken over after expiry; one on this host whose
 * process is gone (or whose pid now belongs to another process) at once.
 * The same timer watches the ledger file: deleted or replaced under a
 * running controller, it stops with LEDGER_MISSING instead of running blind.
 */
import { randomUUID } from "node:crypto";
import { statSync } from "node:fs";
import { hostname } from "node:os";
import { basename, dirname } from "node:path";
import type { Logger } from "pino";
import { isProcessAlive, processStart } from "../adapters/proc-info.js";
import { ControllerLockedError, LedgerMissingError, type GafferError } from "../errors.js";
import { claimControllerLease, releaseControllerLease, renewControllerLease, type ControllerLease } from "../../state/controller-lease.repository.js";
import type { Ledger } from "../../state/ledger.js";
import { watchDirectoryEntries } from "../../state/file-events.js";

/**
 * Lease timing: a lease not renewed for `ttlMs` is free. The ledger file is
 * checked when its directory changes and, in case a change went unseen (or
 * the directory cannot be watched), every `watchMs`.
 */
export interface LeaseTiming {
  readonly ttlMs: number;
  readonly heartbeatMs: number;
  readonly watchMs: number;
}

export const DEFAULT_LEASE_TIMING: LeaseTiming = { ttlMs: 15_000, heartbeatMs: 5_000, watchMs: 5_000 };

/** A lease this process holds. */
export interface HeldLease {
  readonly holder: string;
  /** Rejects (LEDGER_MISSING, CONTROLLER_LOCKED) when the controller must stop; never resolves. */
  readonly lost: Promise<never>;
  /** Stops the heartbeat and gives the lease up (quietly when the ledger is gone). */
  release(): Promise<void>;
}

/** Why `lease`'s holder no longer counts, or null while it does. */
export function takeOverReason(lease: ControllerLease, now: number, host: string): string | null {
  if (Date.parse(lease.expiresAt) <= now) return "expired";
  if (lease.host !== host) return null;
  if (!isProcessAlive(lease.pid)) return "holder-dead";
  const start = processStart(lease.pid);
  return lease.processStart !== null && start !== null && start !== lease.processStart ? "pid-reused" : null;
}

function lockedError(lease: ControllerLease): ControllerLockedError {
  return new ControllerLockedError(`another controller (pid ${lease.pid} on ${lease.host}) runs for this control dir (lease renewed ${lease.heartbeatAt}, expires ${lease.expiresAt}); stop it first, or use \`gaffer status\` to watch it`, { details: { ...lease } });
}

/** dev:ino of the ledger file, or null when it is gone. */
function fileIdentity(file: string): string | null {
  try {
    const stat = statSync(file);
    return `${stat.dev}:${stat.ino}`;
  } catch {
    return null;
  }
}

/** Takes the lease for `db` (CONTROLLER_LOCKED when a live controller holds it) and starts its heartbeat and file watch. */
export async function acquireControllerLease(db: Ledger, options: { readonly ledgerFile: string; readonly actor: string; readonly logger?: Logger; readonly timing?: Partial<LeaseTiming> }): Promise<HeldLease> {
  const timing = { ...DEFAULT_LEASE_TIMING, ...options.timing };
  const host = hostname();
  const claim = { holder: randomUUID(), pid: process.pid, host, processStart: processStart(process.pid), actor: options.actor };
  const identity = fileIdentity(options.ledgerFile);
  const outcome = await claimControllerLease(db, claim, { ttlMs: timing.ttlMs, takeOver: (lease) => takeOverReason(lease, Date.now(), host) });
  if (!outcome.taken) throw lockedError(outcome.lease);
  if (outcome.previous !== null) options.logger?.warn({ previous: outcome.previous, reason: outcome.reason }, "took over the controller lease");
  return startHeartbeat(db, { ...options, timing, holder: claim.holder, identity });
}

function startHeartbeat(db: Ledger, options: { readonly ledgerFile: string; readonly actor: string; readonly logger?: Logger; readonly timing: LeaseTiming; readonly holder: string; readonly identity: string | null }): HeldLease {
  let fail!: (error: GafferError) => void;
  const lost = new Promise<never>((_, reject) => (fail = reject));
  lost.catch(() => undefined); // observed by the controller's race; never an unhandled rejection
  let stopped = false;
  const stopWith = (error: GafferError): void => {
    if (stopped) return;
    stopped = true;
    clearInterval(watch);
    clearInterval(beat);
    events?.close();
    options.logger?.error({ err: error }, "the controller stops");
    fail(error);
  };
  const check = (): void => {
    const now = fileIdentity(options.ledgerFile);
    if (now === options.identity) return;
    const what = now === null ? "was deleted (or .gaffer/ with it)" : "was replaced by another file (a new ledger: another `gaffer up`, or a restore)";
    stopWith(new LedgerMissingError(`${options.ledgerFile} ${what} while this controller ran; it stopped rather than run without its ledger. Put the ledger back (from a backup) or start again with \`gaffer up\`; a new ledger has none of the old history`, { details: { file: options.ledgerFile, deleted: now === null } }));
  };
  // A PostgreSQL ledger has no file (identity null): nothing to watch.
  const events = options.identity === null ? null : watchDirectoryEntries(dirname(options.ledgerFile), (name) => (name === null || name === basename(options.ledgerFile) ? check() : undefined));
  const watch = setInterval(check, options.timing.watchMs);
  const beat = setInterval(() => {
    renewControllerLease(db, options.holder, options.timing.ttlMs)
      .then((held) => {
        if (!held) stopWith(new ControllerLockedError("this controller's lease was taken over by another controller (its heartbeat was not renewed in time: was this process suspended?); it stopped. `gaffer status` shows who runs now", { details: { holder: options.holder } }));
      })
      .catch((error: unknown) => options.logger?.warn({ err: error }, "could not renew the controller lease; retrying"));
  }, options.timing.heartbeatMs);
  return {
    holder: options.holder,
    lost,
    release: async () => {
      stopped = true;
      clearInterval(watch);
      clearInterval(beat);
      events?.close();
      await releaseControllerLease(db, options.holder, options.actor).catch(() => undefined);
    },
  };
}
