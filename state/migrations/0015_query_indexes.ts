import type { Kysely } from "kysely";

/** Indexes for the query paths that grow with the ledger: events by action, sessions by task and state. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex("events_action").ifNotExists().on("events").columns(["action", "id"]).execute();
  await db.schema.createIndex("sessions_task").ifNotExists().on("sessions").columns(["task", "state"]).execute();
  await db.schema.createIndex("sessions_state").ifNotExists().on("sessions").column("state").execute();
  await db.schema.createIndex("approvals_stage").ifNotExists().on("approvals").columns(["stage", "id"]).execute();
}
