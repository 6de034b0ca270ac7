import { sql, type Kysely } from "kysely";

/**
 * Indexes for the read paths that grew with the ledger: the open sessions
 * (`status`, and every command that looks at live sessions: a partial index,
 * so it holds only the few open rows however many sessions were closed), the
 * report's pages of sessions by (`created_at`, `id`) and its count of them
 * per stage, and a task's latest merge (`status`, per task).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex("sessions_open").ifNotExists().on("sessions").columns(["created_at", "id"]).where(sql.ref("closed_at"), "is", null).execute();
  await db.schema.createIndex("sessions_created").ifNotExists().on("sessions").columns(["created_at", "id"]).execute();
  await db.schema.createIndex("sessions_stage").ifNotExists().on("sessions").column("stage").execute();
  await db.schema.createIndex("merges_task").ifNotExists().on("merges").columns(["task", "id"]).execute();
}
