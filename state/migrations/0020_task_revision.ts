import type { Kysely } from "kysely";

/**
 * A task row's revision: every write of its machine snapshot adds one, and a
 * writer saves only over the revision it loaded, so a controller notices a
 * snapshot another process (`gaffer merge`) saved instead of overwriting it.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("tasks").addColumn("revision", "integer", (c) => c.notNull().defaultTo(0)).execute();
}
