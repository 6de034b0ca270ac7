import type { Insertable, Selectable, Updateable } from "kysely";

/** One prompt or text sent to one session: a FIFO per session, ordered by `seq`. */
export interface CommandsTable {
  id: string;
  session_id: string;
  seq: number;
  text: string;
  /** issued | typed | submitted | acknowledged | done | failed | stranded */
  state: string;
  idempotency_key: string;
  sender: string;
  issued_at: string;
  typed_at: string | null;
  submitted_at: string | null;
  acknowledged_at: string | null;
  done_at: string | null;
  failed_at: string | null;
  stranded_at: string | null;
  exit_code: number | null;
  summary: string | null;
  /** JSON evidence for the last transition (screen hash, rule, attempts). */
  evidence: string | null;
  /** Process delivering it (`pid@host`), while it holds the lease (migration 0004). */
  owner: string | null;
  /** ISO time the delivery lease ends; after that another process may take over. */
  lease_until: string | null;
  /** JSON: what the input line held just before a paste (migration 0014); null when no paste was begun. */
  paste_intent: string | null;
  /** When a busy signal was first seen after submission (a prompt is done only after one). */
  busy_seen_at: string | null;
}

export type CommandRow = Selectable<CommandsTable>;
export type NewCommandRow = Insertable<CommandsTable>;
export type CommandUpdate = Updateable<CommandsTable>;
