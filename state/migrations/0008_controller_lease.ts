import type { Kysely } from "kysely";

/** The one-controller guarantee: a lease row (holder, pid, host, process start, heartbeat, expiry). */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("controller_lease")
    .addColumn("name", "text", (c) => c.primaryKey())
    .addColumn("holder", "text", (c) => c.notNull())
    .addColumn("pid", "integer", (c) => c.notNull())
    .addColumn("host", "text", (c) => c.notNull())
    .addColumn("process_start", "text")
    .addColumn("acquired_at", "text", (c) => c.notNull())
    .addColumn("heartbeat_at", "text", (c) => c.notNull())
    .addColumn("expires_at", "text", (c) => c.notNull())
    .execute();
}
