/**
 * Taking a capacity slot: the capacity rules (core/capacity.ts) decide on
 * the usage the ledger holds, inside the reservation's own transaction
 * (state/capacity.repository.ts's takeSlot).
 */
import { checkCapacity, pickHost, usesHosts, type CapacityExceeded, type CapacityLimits } from "../core/capacity.js";
import { CapacityExceededError } from "../errors.js";
import { takeSlot, type Reservation, type ReservationRequest } from "../../state/capacity.repository.js";
import type { Ledger } from "../../state/ledger.js";

/**
 * Checks and takes one slot in a single BEGIN IMMEDIATE transaction, so
 * processes racing for the last slot can never both win. A refusal is itself
 * ledgered (`CapacityRefused`) and thrown as CAPACITY_EXCEEDED with the reason.
 */
export async function reserveCapacity(db: Ledger, limits: CapacityLimits, request: ReservationRequest): Promise<Reservation> {
  const outcome = await takeSlot<CapacityExceeded>(db, request, (usage) => {
    // The host is chosen inside the transaction, so racing reservations never pick the same last slot.
    const picked = request.host !== undefined ? request.host : usesHosts(limits) ? pickHost(limits, usage) : null;
    // No host with a free slot: checked against all hosts together, so the refusal names the host scope.
    const refused = checkCapacity(limits, usage, { ...request, host: request.host === undefined && picked === null && usesHosts(limits) ? undefined : picked });
    return refused === null ? { refused, host: picked, limit: limits.global } : { refused, host: picked };
  });
  if ("refused" in outcome) {
    const r = outcome.refused;
    const raise = r.scope === "host" ? "raise the host's capacity in its AgentPool (or list another host)" : "raise spec.capacity";
    throw new CapacityExceededError(`${r.scope} limit ${r.scope === "global" ? "" : `for ${r.key} `}is ${r.limit} and ${r.inUse} ${r.inUse === 1 ? "is" : "are"} in use; close a session (\`gaffer session close ID\`) or ${raise}`, { details: { ...r } });
  }
  return outcome.reservation;
}
