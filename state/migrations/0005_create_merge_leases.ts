import type { Kysely } from "kysely";

/** The merge-queue lease: at most one process merges into an integration branch at a time. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("merge_leases")
    .addColumn("target", "text", (c) => c.primaryKey())
    .addColumn("holder", "text", (c) => c.notNull())
    .addColumn("merge_id", "integer")
    .addColumn("acquired_at", "text", (c) => c.notNull())
    .addColumn("expires_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("merges_queue").on("merges").columns(["target", "state", "id"]).execute();
  await db.schema.createIndex("worktrees_task").on("worktrees").columns(["task", "state"]).execute();
  await db.schema.createIndex("gates_task").on("gates").columns(["task", "attempt"]).execute();
}
