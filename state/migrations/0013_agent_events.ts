import type { Kysely } from "kysely";
import { dialectOf } from "../dialect.js";

/** Lifecycle events the agents report themselves through their hooks (`gaffer hook`). */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("agent_events")
    .addColumn("id", "integer", (c) => dialectOf(db).idColumn(c))
    .addColumn("session_id", "text", (c) => c.notNull())
    .addColumn("agent", "text", (c) => c.notNull())
    .addColumn("event", "text", (c) => c.notNull())
    .addColumn("evidence_id", "text", (c) => c.notNull())
    .addColumn("prompt", "text")
    .addColumn("reason", "text")
    .addColumn("transcript_path", "text")
    .addColumn("usage", "text")
    .addColumn("payload", "text", (c) => c.notNull())
    .addColumn("received_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("agent_events_session").on("agent_events").columns(["session_id", "id"]).execute();
}
