import type { Kysely } from "kysely";

/**
 * Session delivery and health: who is delivering a command (a lease, so the
 * per-session FIFO is serialized across processes and a dead deliverer is
 * noticed), when a session's screen last changed (idle debounce, stuck), the
 * argv it was started with (restarts) and a backoff deadline (rate limits).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("commands").addColumn("owner", "text").execute();
  await db.schema.alterTable("commands").addColumn("lease_until", "text").execute();
  await db.schema.createIndex("commands_session_state").on("commands").columns(["session_id", "state", "seq"]).execute();
  await db.schema.alterTable("sessions").addColumn("screen_changed_at", "text").execute();
  await db.schema.alterTable("sessions").addColumn("backoff_until", "text").execute();
  await db.schema.alterTable("sessions").addColumn("argv", "text").execute();
  await db.schema.alterTable("sessions").addColumn("last_exit_status", "integer").execute();
}
