import { hostname } from "node:os";
import { takeOverReason } from "../reconciler/controller-lease.js";
import { readControllerLease } from "../../state/controller-lease.repository.js";
import type { Ledger } from "../../state/ledger.js";

/** Whether a controller runs for a control dir, as far as this machine can tell. */
export interface ControllerLiveness {
  readonly running: boolean;
  readonly pid: number | null;
}

/**
 * The one place `status` asks whether `gaffer up` runs: a controller holds
 * a lease in the ledger that nobody could take over: unexpired, and on this
 * host its process is still the one that took it. A controller killed on this
 * host reads as not running at once, one elsewhere once its lease expires.
 */
export async function readControllerLiveness(db: Ledger): Promise<ControllerLiveness> {
  const lease = await readControllerLease(db);
  return lease !== null && takeOverReason(lease, Date.now(), hostname()) === null ? { running: true, pid: lease.pid } : { running: false, pid: null };
}
