/**
 * Pure: the per-session screen-status rollup, one status change at a time,
 * in ledger (id) order. The ledger's trigger (migration 0019) applies the
 * same rule in SQL as each event is inserted; the migration's backfill of an
 * existing ledger uses this function. The report trusts a head only when it
 * is `regular` (see `isRegularChange`), else it replays the session's events.
 */

/** A session's head: the status it is in and since when, plus what the report checks before trusting the sums. */
export interface StatusHead {
  readonly state: string;
  readonly since: string;
  readonly firstAt: string;
  readonly firstSince: string;
  readonly lastAt: string;
  readonly irregular: boolean;
}

/** What one status change contributes: the head after it and the closed stretch to add to a total (if any). */
export interface StatusStep {
  readonly head: StatusHead;
  readonly add: { readonly state: string; readonly ms: number } | null;
}

/** The ledger's one time format (`nowIso`): ISO-8601 UTC with milliseconds; only such times compare as text. */
const CANONICAL_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** The fields of a `SessionStatusChanged` event the rollup reads (`to` and `since` as they are in the payload). */
export interface StatusChange {
  readonly at: string;
  readonly to: unknown;
  readonly since: unknown;
}

/** Pure: the next head after `change` (`head` undefined: the session's first change). */
export function stepStatusHead(head: StatusHead | undefined, change: StatusChange): StatusStep {
  const raw = typeof change.since === "string" ? change.since : change.at;
  const odd = !CANONICAL_TIME.test(raw) || !CANONICAL_TIME.test(change.at) || typeof change.to !== "string";
  const to = typeof change.to === "string" ? change.to : String(change.to ?? "");
  if (head === undefined) return { head: { state: to, since: raw, firstAt: change.at, firstSince: raw, lastAt: change.at, irregular: odd }, add: null };
  const add = raw > head.since ? { state: head.state, ms: Date.parse(raw) - Date.parse(head.since) } : null;
  const next: StatusHead = {
    state: to,
    since: raw > head.since ? raw : head.since,
    firstAt: head.firstAt,
    firstSince: head.firstSince,
    lastAt: change.at > head.lastAt ? change.at : head.lastAt,
    irregular: head.irregular || odd || change.at < head.lastAt,
  };
  return { head: next, add };
}
