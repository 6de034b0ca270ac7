import { CompiledQuery, type Compilable } from "kysely";
import type { Ledger } from "./ledger.js";

/**
 * The SQL comment that asks the ledger's driver wrappers for rows as arrays
 * of the selected columns, in select order: better-sqlite3's `raw` mode
 * (state/sqlite-faults.ts), pg's `rowMode: "array"` (state/postgres-ledger.ts).
 * The report reads ~100k rows of a million-event ledger; an object per row
 * cost it more than the queries.
 */
export const ARRAY_ROWS_MARK = "/* gaffer:array-rows */ ";

/** Whether a statement's text asks for array rows. */
export function wantsArrayRows(sqlText: string): boolean {
  return sqlText.startsWith(ARRAY_ROWS_MARK);
}

/** Runs the select `query` (on `db`, a transaction's handle too) and returns each row as an array of its columns in select order. */
export async function selectArrays<Row extends readonly unknown[]>(db: Ledger, query: Compilable<unknown>): Promise<Row[]> {
  const { sql, parameters } = query.compile();
  return (await db.executeQuery<Row>(CompiledQuery.raw(`${ARRAY_ROWS_MARK}${sql}`, [...parameters]))).rows;
}
