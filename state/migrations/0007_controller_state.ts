import type { Kysely } from "kysely";

/** Persisted machine snapshots (crash recovery) and person-set pauses (takeover). */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("stages").addColumn("snapshot", "text").execute();
  await db.schema.alterTable("tasks").addColumn("snapshot", "text").execute();
  await db.schema
    .createTable("pauses")
    .addColumn("target", "text", (c) => c.primaryKey())
    .addColumn("actor", "text", (c) => c.notNull())
    .addColumn("reason", "text")
    .addColumn("paused_at", "text", (c) => c.notNull())
    .execute();
}
