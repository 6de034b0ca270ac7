import type { Kysely } from "kysely";
import { dialectOf } from "../dialect.js";

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("stages")
    .addColumn("name", "text", (c) => c.primaryKey())
    .addColumn("phase", "text", (c) => c.notNull())
    .addColumn("generation", "text")
    .addColumn("plan_digest", "text")
    .addColumn("started_at", "text")
    .addColumn("finished_at", "text")
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("tasks")
    .addColumn("name", "text", (c) => c.primaryKey())
    .addColumn("stage", "text", (c) => c.notNull())
    .addColumn("role", "text", (c) => c.notNull())
    .addColumn("phase", "text", (c) => c.notNull())
    .addColumn("gate_attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("resolve_attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("approvals")
    .addColumn("id", "integer", (c) => dialectOf(db).idColumn(c))
    .addColumn("stage", "text", (c) => c.notNull())
    .addColumn("request_id", "text", (c) => c.notNull())
    .addColumn("decision", "text", (c) => c.notNull())
    .addColumn("author_email", "text")
    .addColumn("commit_sha", "text")
    .addColumn("comment", "text")
    .addColumn("verdict", "text", (c) => c.notNull())
    .addColumn("reason", "text")
    .addColumn("recorded_at", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("gates")
    .addColumn("id", "integer", (c) => dialectOf(db).idColumn(c))
    .addColumn("task", "text", (c) => c.notNull())
    .addColumn("attempt", "integer", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("command", "text", (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("exit_code", "integer")
    .addColumn("duration_ms", "integer")
    .addColumn("output_tail", "text")
    .addColumn("started_at", "text", (c) => c.notNull())
    .addColumn("finished_at", "text")
    .execute();
  await db.schema
    .createTable("merges")
    .addColumn("id", "integer", (c) => dialectOf(db).idColumn(c))
    .addColumn("task", "text", (c) => c.notNull())
    .addColumn("branch", "text", (c) => c.notNull())
    .addColumn("target", "text", (c) => c.notNull())
    .addColumn("strategy", "text", (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("head_sha", "text")
    .addColumn("merge_sha", "text")
    .addColumn("conflicted_files", "text")
    .addColumn("reason", "text")
    .addColumn("requested_at", "text", (c) => c.notNull())
    .addColumn("finished_at", "text")
    .execute();
  await db.schema
    .createTable("memory")
    .addColumn("id", "integer", (c) => dialectOf(db).idColumn(c))
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("stage", "text")
    .addColumn("task", "text")
    .addColumn("title", "text", (c) => c.notNull())
    .addColumn("path", "text", (c) => c.notNull().unique())
    .addColumn("author", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("effects")
    .addColumn("key", "text", (c) => c.primaryKey())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("result", "text")
    .addColumn("issued_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
}
