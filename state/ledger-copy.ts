import { sql } from "kysely";
import { LedgerMigrationError, LedgerTargetNotEmptyError } from "./errors.js";
import { dialectOf } from "./dialect.js";
import type { Ledger } from "./ledger.js";
import { countRows } from "./ledger-maintenance.repository.js";

/** Rows copied so far of one table (reported after every batch). */
export interface CopyProgress {
  readonly table: string;
  readonly copied: number;
  readonly total: number;
}

/** What `gaffer ledger migrate` reports: rows per table in the source and, after the copy, in the target. */
export interface CopyResult {
  readonly tables: readonly { readonly name: string; readonly source: number; readonly target: number }[];
  readonly rows: number;
  readonly ms: number;
}

/** Options of copyLedger. */
export interface CopyOptions {
  /** Rows per read and per multi-row insert (default 500). */
  readonly batchSize?: number;
  readonly onProgress?: (progress: CopyProgress) => void;
}

/**
 * Copies every table of the SQLite ledger `source` into the ledger `target`
 * (both already at the latest schema), which must be empty
 * (LEDGER_TARGET_NOT_EMPTY otherwise). Rows are read in batches in rowid
 * order and written in one transaction of the target: a copy that fails or
 * is killed leaves the target empty, never half filled. Row counts per table
 * are compared before the commit and again after it.
 */
export async function copyLedger(source: Ledger, target: Ledger, options: CopyOptions = {}): Promise<CopyResult> {
  const started = Date.now();
  const tables = await dialectOf(source).tableNames(source);
  await refuseNonEmpty(target, tables);
  const counts = new Map<string, number>();
  for (const table of tables) counts.set(table, await countRows(source, table));
  await dialectOf(target).writeTransaction(target, async (trx) => {
    for (const table of tables) await copyTable(source, trx, table, counts.get(table)!, options);
    await verifyCounts(trx, counts, "before its commit");
  });
  const result = await verifyCounts(target, counts, "after its commit");
  return { tables: result, rows: result.reduce((sum, t) => sum + t.target, 0), ms: Date.now() - started };
}

async function refuseNonEmpty(target: Ledger, tables: readonly string[]): Promise<void> {
  const filled: string[] = [];
  for (const table of tables) {
    const n = await countRows(target, table);
    if (n > 0) filled.push(`${table} (${n})`);
  }
  if (filled.length === 0) return;
  throw new LedgerTargetNotEmptyError(`the target ledger already has rows in ${filled.join(", ")}; migrate copies only into an empty database: create a new one (\`createdb NAME\`) or empty this one (\`dropdb NAME && createdb NAME\`), then run migrate again`, { details: { tables: filled } });
}

/** Tables the target's triggers fill as events are inserted (migration 0019): replaced by the source's rows, which outlive compacted events. */
const TRIGGER_FILLED = new Set(["report_events", "session_status_heads", "session_status_totals"]);

async function copyTable(source: Ledger, trx: Ledger, table: string, total: number, options: CopyOptions): Promise<void> {
  const batchSize = options.batchSize ?? 500;
  if (TRIGGER_FILLED.has(table)) await trx.deleteFrom(table as never).execute();
  let after = -Infinity;
  let copied = 0;
  for (;;) {
    const batch = await sql<Record<string, unknown> & { readonly __rowid: number }>`select rowid as __rowid, * from ${sql.table(table)} where rowid > ${after === -Infinity ? Number.MIN_SAFE_INTEGER : after} order by rowid limit ${batchSize}`.execute(source);
    const rows = batch.rows;
    if (rows.length === 0) break;
    after = rows.at(-1)!.__rowid;
    await trx.insertInto(table as never).values(rows.map(({ __rowid: _, ...row }) => row) as never).execute();
    copied += rows.length;
    options.onProgress?.({ table, copied, total });
    if (rows.length < batchSize) break;
  }
  await dialectOf(trx).afterExplicitIds(trx, table);
}

async function verifyCounts(target: Ledger, counts: ReadonlyMap<string, number>, when: string): Promise<{ name: string; source: number; target: number }[]> {
  const result: { name: string; source: number; target: number }[] = [];
  for (const [name, source] of counts) result.push({ name, source, target: await countRows(target, name) });
  const differ = result.filter((t) => t.source !== t.target);
  if (differ.length > 0) {
    throw new LedgerMigrationError(`the copy's row counts differ ${when}: ${differ.map((t) => `${t.name} ${t.source} in the source, ${t.target} in the target`).join("; ")}; nothing was committed if this was before the commit, else empty the target and run migrate again`, { details: { tables: differ } });
  }
  return result;
}
