import type { Ledger } from "./ledger.js";

/**
 * The agent host of each session (by tmux session name), read through its
 * capacity reservation; sessions on this machine are left out.
 */
export async function readSessionHosts(db: Ledger, tmuxNames?: readonly string[]): Promise<Map<string, string>> {
  let query = db.selectFrom("sessions").innerJoin("reservations", "reservations.id", "sessions.reservation_id").select(["sessions.tmux_name", "reservations.host"]).where("reservations.host", "is not", null);
  if (tmuxNames !== undefined) query = query.where("sessions.tmux_name", "in", tmuxNames.length === 0 ? [""] : [...tmuxNames]);
  const rows = await query.execute();
  return new Map(rows.map((r) => [r.tmux_name, r.host!]));
}

/** The agent host of each open session (by tmux session name; only a Closed or Failed session has a `closed_at`). */
export async function readOpenSessionHosts(db: Ledger): Promise<Map<string, string>> {
  const rows = await db.selectFrom("sessions").innerJoin("reservations", "reservations.id", "sessions.reservation_id").select(["sessions.tmux_name", "reservations.host"]).where("sessions.closed_at", "is", null).where("reservations.host", "is not", null).execute();
  return new Map(rows.map((r) => [r.tmux_name, r.host!]));
}

/** The agent host of one session (by id), or null for this machine. */
export async function readHostOfSession(db: Ledger, sessionId: string): Promise<string | null> {
  const row = await db.selectFrom("sessions").innerJoin("reservations", "reservations.id", "sessions.reservation_id").select("reservations.host").where("sessions.id", "=", sessionId).executeTakeFirst();
  return row?.host ?? null;
}
