import { statSync } from "node:fs";
import { PostgresAdapter, sql, type ColumnDefinitionBuilder, type Kysely, type RawBuilder } from "kysely";

import { LedgerUnsupportedError } from "./errors.js";

/**
 * What differs between the ledger's two backends, in one place: the
 * repositories and migrations ask this facade and never test for a backend
 * themselves. The backend is read off the kysely handle's adapter, so a
 * transaction's handle (`db.connection()`) answers like the ledger's.
 */
export interface LedgerDialect {
  readonly kind: "sqlite" | "postgres";
  /**
   * Runs `fn` in one write transaction that excludes every other write
   * transaction of the ledger for its duration (SQLite `BEGIN IMMEDIATE`;
   * PostgreSQL `BEGIN` + a transaction-scoped advisory lock), so a
   * read-check-write inside (capacity, queue order, the lease) cannot race.
   */
  writeTransaction<T>(db: Kysely<any>, fn: (trx: Kysely<any>) => Promise<T>): Promise<T>;
  /** The text value of `key` in the JSON text held by `column` (null when absent). */
  jsonText(column: string, key: string): RawBuilder<string | null>;
  /** `column` as an expression the planner will not answer from an index (SQLite `+col`). */
  unindexed(column: string): RawBuilder<string>;
  /** The ledger's own tables (not the migration bookkeeping), sorted by name. */
  tableNames(db: Kysely<any>): Promise<string[]>;
  /** An autoincrementing integer primary key column, for migrations. */
  idColumn(column: ColumnDefinitionBuilder): ColumnDefinitionBuilder;
  /** Bytes the ledger takes (the SQLite file at `location`, the PostgreSQL database). */
  sizeBytes(db: Kysely<any>, location: string): Promise<number>;
  /** Writes a consistent copy of the whole ledger to the file `path`. */
  archive(db: Kysely<any>, path: string): Promise<void>;
  /** Returns the space of deleted rows to the system. */
  reclaim(db: Kysely<any>): Promise<void>;
  /** After rows were inserted with explicit ids into `table`: the next generated id follows the largest. */
  afterExplicitIds(db: Kysely<any>, table: string): Promise<void>;
  /**
   * A value that changes whenever any process changed the ledger's rows (so an
   * unchanged one vouches that a read would answer as before), or null when
   * the backend has no cheap one (PostgreSQL: then read).
   */
  changeStamp(db: Kysely<any>): Promise<string | null>;
}

/** Any key: one constant names the ledger's write lock among PostgreSQL's advisory locks. */
const WRITE_LOCK_KEY = 0x6761666665; // "gaffe"

async function inTransaction<T>(db: Kysely<any>, begin: readonly RawBuilder<unknown>[], fn: (trx: Kysely<any>) => Promise<T>): Promise<T> {
  return db.connection().execute(async (conn) => {
    for (const statement of begin) await statement.execute(conn);
    try {
      const result = await fn(conn);
      await sql`commit`.execute(conn);
      return result;
    } catch (error) {
      await sql`rollback`.execute(conn);
      throw error;
    }
  });
}

/** Rows changed through a ledger handle that nothing a stamp vouches for reads (the controller's lease heartbeat). */
const unstamped = new WeakMap<Kysely<any>, number>();

/**
 * Leaves `rows` just changed through `db` out of its change stamp: the
 * controller's lease heartbeat (a write every 5 s) would otherwise make an
 * idle controller read everything again on each pass.
 */
export function leaveOutOfChangeStamp(db: Kysely<any>, rows: number): void {
  unstamped.set(db, (unstamped.get(db) ?? 0) + rows);
}

const SQLITE: LedgerDialect = {
  kind: "sqlite",
  writeTransaction: (db, fn) => inTransaction(db, [sql`begin immediate`], fn),
  jsonText: (column, key) => sql<string | null>`json_extract(${sql.ref(column)}, ${`$.${key}`})`,
  unindexed: (column) => sql<string>`+${sql.ref(column)}`,
  tableNames: async (db) => {
    const rows = await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like 'kysely_%' order by name`.execute(db);
    return rows.rows.map((r) => r.name);
  },
  idColumn: (c) => c.primaryKey().autoIncrement(),
  sizeBytes: async (_db, location) => statSync(location).size,
  archive: async (db, path) => {
    await sql`vacuum into ${path}`.execute(db);
  },
  reclaim: async (db) => {
    await sql`vacuum`.execute(db);
  },
  // AUTOINCREMENT follows the largest id inserted, explicit or not.
  afterExplicitIds: async () => undefined,
  // Rows this connection changed (but the heartbeat's), and the commits of every other connection (data_version).
  changeStamp: async (db) => {
    const row = (await sql<{ own: number; others: number }>`select total_changes() as own, (select data_version from pragma_data_version) as others`.execute(db)).rows[0];
    return row === undefined ? null : `${row.own - (unstamped.get(db) ?? 0)}:${row.others}`;
  },
};

const POSTGRES: LedgerDialect = {
  kind: "postgres",
  writeTransaction: (db, fn) => inTransaction(db, [sql`begin`, sql`select pg_advisory_xact_lock(${sql.lit(WRITE_LOCK_KEY)})`], fn),
  // The ledger keeps JSON as text on both backends (one schema); cast where a field is read.
  jsonText: (column, key) => sql<string | null>`(${sql.ref(column)}::jsonb ->> ${key})`,
  unindexed: (column) => sql<string>`(${sql.ref(column)} || '')`,
  tableNames: async (db) => {
    const rows = await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE' and table_name not like 'kysely_%' order by table_name`.execute(db);
    return rows.rows.map((r) => r.name);
  },
  idColumn: (c) => c.primaryKey().generatedByDefaultAsIdentity(),
  sizeBytes: async (db) => Number((await sql<{ n: string }>`select pg_database_size(current_database()) as n`.execute(db)).rows[0]!.n),
  archive: async () => {
    throw new LedgerUnsupportedError("compact keeps its archive copy with SQLite's VACUUM INTO, which a PostgreSQL ledger has no equivalent of; take a copy with pg_dump, then delete old events with SQL, or compact a SQLite ledger");
  },
  reclaim: async (db) => {
    await sql`vacuum`.execute(db);
  },
  afterExplicitIds: async (db, table) => {
    const identity = await sql<{ seq: string | null }>`select pg_get_serial_sequence(${table}, 'id') as seq from information_schema.columns where table_schema = current_schema() and table_name = ${table} and column_name = 'id' and is_identity = 'YES'`.execute(db);
    const sequence = identity.rows[0]?.seq;
    if (sequence === undefined || sequence === null) return;
    await sql`select setval(${sequence}, coalesce((select max(id) from ${sql.table(table)}), 0) + 1, false)`.execute(db);
  },
  changeStamp: async () => null,
};

/** The dialect of the ledger behind `db` (a transaction's handle included). */
export function dialectOf(db: Kysely<any>): LedgerDialect {
  return db.getExecutor().adapter instanceof PostgresAdapter ? POSTGRES : SQLITE;
}
