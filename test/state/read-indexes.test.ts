/**
 * Migration 0021's indexes on both backends, and the read paths that use them:
 * the open sessions (`status`, a partial index that holds only rows without
 * `closed_at`), the report's pages of sessions by (`created_at`, `id`) and its
 * count per stage, and a task's latest merge. PostgreSQL is asked with sequential scans off, so the
 * plan shows whether the index can answer the query at all.
 */
import { sql } from "kysely";
import { describe, expect, test } from "vitest";
import type { Ledger } from "../../state/ledger.js";
import { dialectOf } from "../../state/dialect.js";
import { BACKENDS, newLedger } from "../helpers/ledger-backends.js";

const PATHS = [
  { index: "sessions_open", query: "select * from sessions where closed_at is null order by created_at, id" },
  { index: "sessions_created", query: "select id from sessions where (created_at, id) > ('2026-01-01T00:00:00.000Z', 'a') order by created_at, id limit 4000" },
  { index: "sessions_stage", query: "select stage, count(*) as n from sessions group by stage" },
  { index: "merges_task", query: "select state, merge_sha from merges where task = 'add-login' order by id desc limit 1" },
] as const;

/** The plan of `query` as one text. */
async function planOf(db: Ledger, query: string): Promise<string> {
  if (dialectOf(db).kind === "sqlite") return (await sql.raw<{ detail: string }>(`explain query plan ${query}`).execute(db)).rows.map((r) => r.detail).join("\n");
  return db.connection().execute(async (conn) => {
    await sql`set enable_seqscan = off`.execute(conn);
    const rows = (await sql.raw<{ "QUERY PLAN": string }>(`explain ${query}`).execute(conn)).rows;
    await sql`reset enable_seqscan`.execute(conn);
    return rows.map((r) => r["QUERY PLAN"]).join("\n");
  });
}

describe.each(BACKENDS)("the read paths' indexes on %s", (backend) => {
  test.each(PATHS)("$index answers its read path", async ({ index, query }) => {
    const db = await newLedger(backend);
    try {
      expect(await planOf(db, query)).toContain(index);
    } finally {
      await db.destroy();
    }
  });
});
