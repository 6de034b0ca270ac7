import type { Insertable, Selectable } from "kysely";

/** A capacity slot held by a session (or a request for one) until released. */
export interface ReservationsTable {
  id: string;
  agent: string;
  role: string;
  stage: string | null;
  task: string | null;
  holder: string;
  /** held | released */
  state: string;
  acquired_at: string;
  released_at: string | null;
  /** The agent host the slot is on (AgentPool `hosts`), null for this machine. */
  host: string | null;
}

export type ReservationRow = Selectable<ReservationsTable>;
export type NewReservationRow = Insertable<ReservationsTable>;
