import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import SqliteDatabase from "better-sqlite3";
import { Kysely, Migrator, SqliteDialect, sql, type Migration, type MigrationResultSet } from "kysely";
import { isGafferError, LedgerMigrationError } from "./errors.js";
import type { Database } from "./database.js";
import { dialectOf } from "./dialect.js";
import type { LedgerTarget } from "./ledger-target.js";
import { openPostgresLedger } from "./postgres-ledger.js";
import { MIGRATIONS, staticMigrations } from "./migrations/index.js";
import { faultNamingDatabase, translateSqliteError } from "./sqlite-faults.js";

export { translateSqliteError } from "./sqlite-faults.js";

/** The ledger: a kysely handle over one SQLite file or one PostgreSQL database. */
export type Ledger = Kysely<Database>;

export { LEDGER_FILE } from "./ledger-target.js";

export interface OpenLedgerOptions {
  /** Migrations to apply (default: all). Tests pass a prefix to build an older ledger. */
  readonly migrations?: Readonly<Record<string, Migration>>;
  /** How long to wait for another process's write lock before LEDGER_LOCKED (ms). */
  readonly busyTimeoutMs?: number;
}

/**
 * Opens the ledger `target` names (state/ledger-target.ts): the SQLite file,
 * or the PostgreSQL database (state/postgres-ledger.ts), migrated to the
 * latest schema either way.
 */
export async function openLedgerAt(target: LedgerTarget, options: OpenLedgerOptions = {}): Promise<Ledger> {
  if (target.kind === "sqlite") return openLedger(target.file, options);
  return openPostgresLedger(target.url, target.display, options.migrations === undefined ? {} : { migrations: options.migrations });
}

/**
 * Opens (creating if needed) the ledger at `file`: WAL, foreign keys, busy
 * timeout, then migrates to the latest schema. Every statement's fault is
 * named (state/sqlite-faults.ts: LEDGER_DISK_FULL, LEDGER_READONLY,
 * LEDGER_CORRUPT, LEDGER_LOCKED, LEDGER_MISSING), never a driver stack trace.
 */
export async function openLedger(file: string, options: OpenLedgerOptions = {}): Promise<Ledger> {
  let sqlite: SqliteDatabase.Database | undefined;
  try {
    mkdirSync(dirname(file), { recursive: true });
    sqlite = new SqliteDatabase(file, { timeout: options.busyTimeoutMs ?? 5000 });
    sqlite.pragma("journal_mode = WAL");
    sqlite.pragma("synchronous = NORMAL");
    sqlite.pragma("foreign_keys = ON");
  } catch (error) {
    sqlite?.close(); // a handle left open would keep the file (and its filesystem) busy
    throw translateSqliteError(file, error);
  }
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: faultNamingDatabase(file, sqlite) }) });
  try {
    await migrateWithRetry(db, file, options.migrations ?? MIGRATIONS, options.busyTimeoutMs ?? 5000);
  } catch (error) {
    await db.destroy();
    throw translateSqliteError(file, error);
  }
  return db;
}

/**
 * NOTE: kysely's SQLite adapter takes no migration lock (it assumes one
 * connection) and runs migrations outside any transaction, so a process
 * killed inside one left it half applied (a column added, the migration not
 * recorded: "duplicate column" on every later open). All pending migrations
 * run in one `BEGIN IMMEDIATE` transaction: a kill leaves none of them, and a
 * second process opening a new ledger waits for the first and finds its work
 * recorded (a race that still slips through is retried).
 */
async function migrateWithRetry(db: Ledger, file: string, migrations: Readonly<Record<string, Migration>>, busyTimeoutMs: number): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await migrateLedger(db, file, migrations, busyTimeoutMs);
      return;
    } catch (error) {
      const raced = error instanceof LedgerMigrationError && /already exists|duplicate column/.test(String((error.cause as Error | undefined)?.message));
      if (!raced || attempt >= 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
}

async function migrateLedger(db: Ledger, file: string, migrations: Readonly<Record<string, Migration>>, busyTimeoutMs: number): Promise<void> {
  // Tolerates a ledger that applied a later migration before an earlier one was added (development builds).
  const migrator = (on: Ledger): Migrator => new Migrator({ db: on, provider: staticMigrations(migrations), allowUnorderedMigrations: true });
  // Nothing pending (every open but the first after an upgrade): no write lock taken, so a read-only ledger still opens.
  // Asked of kysely's own table directly: the migrator would first introspect every table of the schema.
  const executed = await sql<{ name: string }>`select name from kysely_migration`.execute(db).then((r) => new Set(r.rows.map((m) => m.name)), () => null);
  if (executed !== null && Object.keys(migrations).every((name) => executed.has(name))) return;
  let results: MigrationResultSet["results"];
  let error: unknown;
  try {
    await db.connection().execute(async (conn) => {
      await beginImmediateYielding(conn, busyTimeoutMs);
      try {
        const outcome = await migrator(conn).migrateToLatest();
        results = outcome.results;
        // Thrown, so the transaction rolls back every migration of this open (a failed one included).
        if (outcome.error !== undefined) throw outcome.error;
        await sql`commit`.execute(conn);
      } catch (thrown) {
        await sql`rollback`.execute(conn);
        throw thrown;
      }
    });
  } catch (thrown) {
    error = thrown;
  }
  if (error !== undefined) {
    const translated = translateSqliteError(file, error);
    if (translated !== error || isGafferError(error)) throw translated;
    const failed = results?.find((r) => r.status === "Error")?.migrationName ?? "unknown";
    throw new LedgerMigrationError(`migration ${failed} failed on ${file}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * `BEGIN IMMEDIATE` that waits for another holder without blocking the
 * thread: better-sqlite3's busy timeout waits synchronously, and a holder in
 * this same process (a test's controller opening the ledger beside it) could
 * then never finish its transaction. Busy answers are retried after a yield.
 */
async function beginImmediateYielding(conn: Ledger, busyTimeoutMs: number): Promise<void> {
  const deadline = Date.now() + busyTimeoutMs;
  await sql.raw("pragma busy_timeout = 0").execute(conn);
  try {
    for (;;) {
      try {
        await sql`begin immediate`.execute(conn);
        return;
      } catch (error) {
        if (!/SQLITE_BUSY|database is locked/i.test(`${(error as { code?: string }).code ?? ""} ${String((error as Error).message)} ${String((error as { cause?: Error }).cause?.message ?? "")}`) || Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  } finally {
    await sql.raw(`pragma busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`).execute(conn);
  }
}

/**
 * Runs `fn` in one write transaction that excludes every other writer of the
 * ledger (SQLite `BEGIN IMMEDIATE`, PostgreSQL an advisory transaction lock;
 * state/dialect.ts): a read-check-write inside (capacity, queue order) can
 * never race another process. Commits on success, rolls back on any throw.
 */
export async function immediateTransaction<T>(db: Ledger, fn: (trx: Ledger) => Promise<T>): Promise<T> {
  return dialectOf(db).writeTransaction(db, fn);
}

/** ISO-8601 now, with milliseconds: the one time format of the ledger. */
export function nowIso(): string {
  return new Date().toISOString();
}
