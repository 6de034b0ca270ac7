import type { Generated, Insertable, Selectable } from "kysely";

/** Append-only audit trail: one row per mutating action. */
export interface EventsTable {
  id: Generated<number>;
  /** ISO-8601 time with milliseconds. */
  at: string;
  /** Who acted: `controller`, `cli:<user>`, `mcp`, `test`... */
  actor: string;
  /** What happened, CamelCase: `SessionCreated`, `CapacityReserved`, `ApprovalRejected`... */
  action: string;
  /** What it happened to: `session/<id>`, `task/<name>`, `stage/<name>`... */
  subject: string;
  /** JSON object with the details. */
  payload: string;
  /** Commit sha the action relates to, if any. */
  commit_sha: string | null;
}

export type EventRow = Selectable<EventsTable>;
export type NewEventRow = Insertable<EventsTable>;
