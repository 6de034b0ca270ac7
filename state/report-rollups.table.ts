/**
 * What the report reads, kept up to date by a trigger on `events` as each
 * event is inserted (migration 0019): the same statement's transaction, so a
 * crash never leaves them out of step with the events.
 */

/** The report's events other than screen status changes, with the payload fields it reads (no JSON at read time). */
export interface ReportEventsTable {
  /** The event's id. */
  id: number;
  at: string;
  action: string;
  subject: string;
  to_state: string | null;
  role: string | null;
  since: string | null;
}

/** Per session: the screen status it is in now and since when (the stretch not yet summed), and what tells the report it can trust the sums. */
export interface SessionStatusHeadsTable {
  session_id: string;
  state: string;
  /** Effective start of the current stretch (ISO). */
  since: string;
  /** `at` and effective time of its first status change. */
  first_at: string;
  first_since: string;
  /** Latest `at` seen. */
  last_at: string;
  /** 1 when a change came out of time order or with a time or status the trigger cannot compare: the report replays that session's events instead. */
  irregular: number;
}

/** Per session and screen status: milliseconds spent in closed stretches (pauses not carved out). */
export interface SessionStatusTotalsTable {
  session_id: string;
  state: string;
  ms: number | string;
}
