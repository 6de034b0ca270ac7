import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import SqliteDatabase from "better-sqlite3";
import { Kysely, Migrator, SqliteDialect, sql, type Migration } from "kysely";
import { LedgerCorruptError, LedgerLockedError, LedgerMigrationError } from "../controller/errors.js";
import type { Database } from "./database.js";
import { MIGRATIONS, staticMigrations } from "./migrations/index.js";

/** The ledger: a kysely handle over one SQLite file. */
export type Ledger = Kysely<Database>;

export const LEDGER_FILE = ".gaffer/ledger.sqlite";

export interface OpenLedgerOptions {
  /** Migrations to apply (default: all). Tests pass a prefix to build an older ledger. */
  readonly migrations?: Readonly<Record<string, Migration>>;
  /** How long to wait for another process's write lock before LEDGER_LOCKED (ms). */
  readonly busyTimeoutMs?: number;
}

function sqliteCode(error: unknown): string | undefined {
  return (error as { code?: string } | null)?.code;
}

/** Maps driver errors a user can meet to errors that say what to do. */
export function translateSqliteError(file: string, error: unknown): unknown {
  const code = sqliteCode(error) ?? "";
  if (code === "SQLITE_NOTADB" || code === "SQLITE_CORRUPT") {
    return new LedgerCorruptError(`${file} is not a readable SQLite ledger (${(error as Error).message}); move it aside to start a new ledger, or restore it from a backup`, { cause: error });
  }
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) {
    return new LedgerLockedError(`${file} is locked by another process; wait for it to finish or stop it, then retry`, { cause: error });
  }
  return error;
}

/**
 * Opens (creating if needed) the ledger at `file`: WAL, foreign keys, busy
 * timeout, then migrates to the latest schema. Corrupt or locked files give
 * LEDGER_CORRUPT / LEDGER_LOCKED, never a driver stack trace.
 */
export async function openLedger(file: string, options: OpenLedgerOptions = {}): Promise<Ledger> {
  mkdirSync(dirname(file), { recursive: true });
  let sqlite: SqliteDatabase.Database;
  try {
    sqlite = new SqliteDatabase(file, { timeout: options.busyTimeoutMs ?? 5000 });
    sqlite.pragma("journal_mode = WAL");
    sqlite.pragma("synchronous = NORMAL");
    sqlite.pragma("foreign_keys = ON");
  } catch (error) {
    throw translateSqliteError(file, error);
  }
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  try {
    await migrateWithRetry(db, file, options.migrations ?? MIGRATIONS);
  } catch (error) {
    await db.destroy();
    throw translateSqliteError(file, error);
  }
  return db;
}

/**
 * NOTE: kysely's SQLite adapter takes no migration lock (it assumes one
 * connection), so two processes opening a new ledger at once can both try a
 * migration. Each migration is its own transaction: the loser rolls back,
 * and a retry finds the winner's work recorded.
 */
async function migrateWithRetry(db: Ledger, file: string, migrations: Readonly<Record<string, Migration>>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await migrateLedger(db, file, migrations);
      return;
    } catch (error) {
      const raced = error instanceof LedgerMigrationError && /already exists|duplicate column/.test(String((error.cause as Error | undefined)?.message));
      if (!raced || attempt >= 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
}

async function migrateLedger(db: Ledger, file: string, migrations: Readonly<Record<string, Migration>>): Promise<void> {
  // Tolerates a ledger that applied a later migration before an earlier one was added (development builds).
  const migrator = new Migrator({ db, provider: staticMigrations(migrations), allowUnorderedMigrations: true });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const translated = translateSqliteError(file, error);
    if (translated !== error) throw translated;
    const failed = results?.find((r) => r.status === "Error")?.migrationName ?? "unknown";
    throw new LedgerMigrationError(`migration ${failed} failed on ${file}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Runs `fn` in one `BEGIN IMMEDIATE` transaction: the write lock is taken up
 * front, so a read-check-write inside (capacity, queue order) can never race
 * another process. Commits on success, rolls back on any throw.
 */
export async function immediateTransaction<T>(db: Ledger, fn: (trx: Ledger) => Promise<T>): Promise<T> {
  return db.connection().execute(async (conn) => {
    await sql`begin immediate`.execute(conn);
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

/** ISO-8601 now, with milliseconds: the one time format of the ledger. */
export function nowIso(): string {
  return new Date().toISOString();
}
