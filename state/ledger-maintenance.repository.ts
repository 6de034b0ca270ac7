import { sql } from "kysely";
import { dialectOf } from "./dialect.js";
import { appendEvent } from "./events.repository.js";
import type { Ledger } from "./ledger.js";

/** What `gaffer ledger stats` reports. */
export interface LedgerStats {
  readonly file: string;
  /** Bytes of the database file (the WAL not included). */
  readonly bytes: number;
  /** Rows per table. */
  readonly tables: Readonly<Record<string, number>>;
  readonly events: {
    readonly count: number;
    readonly oldest: string | null;
    readonly newest: string | null;
    /** The ten most frequent actions, most frequent first. */
    readonly topActions: readonly { readonly action: string; readonly count: number }[];
  };
}

/** Row counts, size and event span of the ledger; reads counts only (no payloads). */
export async function ledgerStats(db: Ledger, file: string): Promise<LedgerStats> {
  const dialect = dialectOf(db);
  const tables: Record<string, number> = {};
  for (const name of await dialect.tableNames(db)) tables[name] = await countRows(db, name);
  const span = await db.selectFrom("events").select([(eb) => eb.fn.min("at").as("oldest"), (eb) => eb.fn.max("at").as("newest")]).executeTakeFirst();
  const top = await db.selectFrom("events").select(["action", (eb) => eb.fn.countAll<number>().as("count")]).groupBy("action").orderBy("count", "desc").limit(10).execute();
  return {
    file,
    bytes: await dialect.sizeBytes(db, file),
    tables,
    events: { count: tables.events ?? 0, oldest: span?.oldest ?? null, newest: span?.newest ?? null, topActions: top.map((t) => ({ action: t.action, count: Number(t.count) })) },
  };
}

/** The number of rows of the ledger table `name` (a count is a string on PostgreSQL). */
export async function countRows(db: Ledger, name: string): Promise<number> {
  const row = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(name)}`.execute(db);
  return Number(row.rows[0]!.n);
}

/** Actions `compact` never deletes: the audit trail of who approved, committed and merged what. */
export const KEPT_ACTIONS = /^(Approval|Merge|Committed|Retry|Override|Ledger)/;

/** What `gaffer ledger compact` did. */
export interface CompactResult {
  readonly before: string;
  /** The full copy taken first (SQLite `VACUUM INTO`). */
  readonly archive: string;
  readonly deleted: number;
  /** Events older than `before` that were kept (approvals, commits, merges...). */
  readonly kept: number;
  readonly remaining: number;
}

/**
 * Copies the whole ledger to `archive`, then deletes events older than
 * `before` except the kept actions, records a `LedgerCompacted` event and
 * returns the freed space to the file system. Current-state tables are not
 * touched: status and the report of live work do not change.
 */
export async function compactLedger(db: Ledger, options: { readonly before: string; readonly archive: string; readonly actor: string }): Promise<CompactResult> {
  const dialect = dialectOf(db);
  await dialect.archive(db, options.archive);
  const old = await db.selectFrom("events").select(["action", (eb) => eb.fn.countAll<number>().as("count")]).where("at", "<", options.before).groupBy("action").execute();
  const doomed = old.filter((row) => !KEPT_ACTIONS.test(row.action));
  const deleted = doomed.reduce((sum, row) => sum + Number(row.count), 0);
  const kept = old.reduce((sum, row) => sum + Number(row.count), 0) - deleted;
  if (doomed.length > 0) {
    await db.deleteFrom("events").where("at", "<", options.before).where("action", "in", doomed.map((row) => row.action)).execute();
  }
  await appendEvent(db, { actor: options.actor, action: "LedgerCompacted", subject: "ledger", payload: { before: options.before, archive: options.archive, deleted, kept } });
  await dialect.reclaim(db);
  const remaining = Number((await db.selectFrom("events").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow()).n);
  return { before: options.before, archive: options.archive, deleted, kept, remaining };
}
