import type { Kysely } from "kysely";

/**
 * Delivery evidence: the intent recorded before a paste (what the input line
 * held, how often the text's echo was already in the history), when a busy
 * signal was first seen after submission (a prompt is done only after one),
 * and why a session's task needs a person (the Stalled reason and message).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("commands").addColumn("paste_intent", "text").execute();
  await db.schema.alterTable("commands").addColumn("busy_seen_at", "text").execute();
  await db.schema.alterTable("sessions").addColumn("stall_reason", "text").execute();
  await db.schema.alterTable("sessions").addColumn("stall_message", "text").execute();
  await db.schema.alterTable("sessions").addColumn("stalled_at", "text").execute();
}
