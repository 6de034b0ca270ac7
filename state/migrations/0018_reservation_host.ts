import type { Kysely } from "kysely";

/**
 * Agent hosts: the host a capacity slot (and so its session) is on, null for
 * this machine. A session's host is read through its reservation.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("reservations").addColumn("host", "text").execute();
}
