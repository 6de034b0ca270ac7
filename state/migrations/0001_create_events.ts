import { sql, type Kysely } from "kysely";
import { dialectOf } from "../dialect.js";

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("events")
    .addColumn("id", "integer", (c) => dialectOf(db).idColumn(c))
    .addColumn("at", "text", (c) => c.notNull())
    .addColumn("actor", "text", (c) => c.notNull())
    .addColumn("action", "text", (c) => c.notNull())
    .addColumn("subject", "text", (c) => c.notNull())
    .addColumn("payload", "text", (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn("commit_sha", "text")
    .execute();
  await db.schema.createIndex("events_subject").on("events").columns(["subject", "id"]).execute();
  await db.schema.createIndex("events_at").on("events").column("at").execute();
}
