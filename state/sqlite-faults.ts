import { existsSync, statfsSync } from "node:fs";
import { dirname } from "node:path";
import type BetterSqlite3 from "better-sqlite3";
import type { SqliteDatabase, SqliteStatement } from "kysely";
import { wantsArrayRows } from "./array-rows.js";
import { isGafferError, LedgerCorruptError, LedgerDiskFullError, LedgerLockedError, LedgerMissingError, LedgerReadonlyError, type GafferError } from "./errors.js";

/**
 * Ledger faults with names. Every driver or filesystem error a user can meet
 * on the ledger becomes one coded error whose message says what to do:
 * LEDGER_DISK_FULL, LEDGER_READONLY, LEDGER_CORRUPT, LEDGER_LOCKED,
 * LEDGER_MISSING. Anything else is returned unchanged.
 */

function codeOf(error: unknown): string {
  return String((error as { code?: unknown } | null)?.code ?? "");
}

function reason(error: unknown): string {
  const code = codeOf(error);
  const message = (error as Error | null)?.message ?? String(error);
  return code === "" || message.includes(code) ? message : `${code}: ${message}`;
}

/** Less free space than this counts as a full disk when SQLite reports a bare I/O error. */
const NEARLY_FULL_BYTES = 1024 * 1024;

/**
 * NOTE: a full disk is not always SQLITE_FULL: growing the WAL index
 * (`-shm`) on a full filesystem fails as SQLITE_IOERR_SHMSIZE, other writes
 * as SQLITE_IOERR_WRITE. An I/O error on a filesystem with (almost) no free
 * space is a full disk.
 */
function isDiskFull(code: string, dir: string): boolean {
  if (code === "SQLITE_FULL" || code === "ENOSPC" || code === "EDQUOT") return true;
  if (!code.startsWith("SQLITE_IOERR")) return false;
  try {
    const fs = statfsSync(dir);
    return fs.bavail * fs.bsize < NEARLY_FULL_BYTES;
  } catch {
    return false;
  }
}

/** The named fault for `error` on the ledger `file`, or null when it is not one. */
export function ledgerFault(file: string, error: unknown): GafferError | null {
  const code = codeOf(error);
  const options = { cause: error, details: { file, cause: code || undefined } };
  const dir = dirname(file);
  if (isDiskFull(code, dir)) {
    return new LedgerDiskFullError(`the disk holding ${file} is full (${reason(error)}); free space on that filesystem, then retry (a running controller retries by itself and goes on)`, options);
  }
  if (code === "SQLITE_READONLY_DBMOVED" || (code.startsWith("SQLITE_") && !existsSync(dir))) return missing(file, dir, reason(error), error);
  if (code.startsWith("SQLITE_READONLY") || code === "EROFS" || code === "EACCES" || code === "EPERM" || code === "SQLITE_CANTOPEN") {
    return new LedgerReadonlyError(`${file} cannot be written (${reason(error)}); make the file and ${dir}/ writable for this user (chmod u+w, or remount the filesystem read-write), then retry`, options);
  }
  if (code.startsWith("SQLITE_CORRUPT") || code === "SQLITE_NOTADB") {
    return new LedgerCorruptError(`${file} is not a readable SQLite ledger (${reason(error)}); stop the controller, move the file aside to start a new ledger, or restore it from a backup`, options);
  }
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) {
    return new LedgerLockedError(`${file} is locked by another process (${reason(error)}); wait for it to finish or stop it, then retry`, options);
  }
  return null;
}

function missing(file: string, dir: string, why: string, cause?: unknown): LedgerMissingError {
  return new LedgerMissingError(`${file} is gone: it (or ${dir}/) was deleted or moved while in use (${why}); stop the controller and put it back from a backup; starting again with a new ledger loses its history`, { cause, details: { file } });
}

/** Maps driver errors a user can meet to errors that say what to do (others unchanged). */
export function translateSqliteError(file: string, error: unknown): unknown {
  if (isGafferError(error)) return error; // already named (by the statement that failed)
  return ledgerFault(file, error) ?? error;
}

function guarded<T>(file: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    throw translateSqliteError(file, error);
  }
}

function* guardedIterator(file: string, rows: IterableIterator<unknown>): IterableIterator<unknown> {
  for (;;) {
    const next = guarded(file, () => rows.next());
    if (next.done === true) return;
    yield next.value;
  }
}

const NO_OP: SqliteStatement = {
  reader: false,
  all: () => [],
  run: () => ({ changes: 0, lastInsertRowid: 0 }),
  iterate: () => [][Symbol.iterator](),
};

/**
 * The database handle kysely drives, with every statement's error named.
 * NOTE: SQLite rolls a transaction back by itself when a statement fails with
 * SQLITE_FULL, SQLITE_IOERR, SQLITE_BUSY or SQLITE_NOMEM; the `rollback` that
 * follows then fails with "cannot rollback - no transaction is active" and
 * hides the real error. A rollback with no transaction open is a no-op here.
 */
export function faultNamingDatabase(file: string, sqlite: BetterSqlite3.Database): SqliteDatabase {
  const prepared = new StatementCache(sqlite);
  return {
    close: () => sqlite.close(),
    prepare: (sqlText: string): SqliteStatement => {
      if (/^\s*rollback\s*;?\s*$/i.test(sqlText) && !sqlite.inTransaction) return NO_OP;
      // NOTE: SQLite keeps writing to an unlinked file: a deleted ledger (or .gaffer/) fails nothing by itself.
      // Every transaction checks that the file is still there (one stat), so the loss is named, not silent.
      if (/^\s*begin\b/i.test(sqlText) && !existsSync(file)) throw missing(file, dirname(file), "the file no longer exists");
      const statement = guarded(file, () => prepared.get(sqlText));
      if (statement.reader && wantsArrayRows(sqlText)) statement.raw(true);
      return {
        reader: statement.reader,
        // As kysely's own driver calls them: the parameter array as one argument (better-sqlite3 binds its items).
        all: (parameters) => guarded(file, () => statement.all(parameters)),
        run: (parameters) => guarded(file, () => statement.run(parameters)),
        iterate: (parameters) => guardedIterator(file, guarded(file, () => statement.iterate(parameters))),
      };
    },
  };
}

/**
 * Prepared statements by SQL text: kysely asks for a new one on every query,
 * and preparing cost more than running the query on the hot paths (an idle
 * controller spent a third of its time in `prepare`). Bounded (the oldest go
 * first); a statement still iterating (a stream) is never handed out twice.
 */
class StatementCache {
  private readonly statements = new Map<string, BetterSqlite3.Statement>();

  constructor(private readonly sqlite: BetterSqlite3.Database, private readonly limit = 500) {}

  get(sqlText: string): BetterSqlite3.Statement {
    const cached = this.statements.get(sqlText);
    if (cached !== undefined && !cached.busy) return cached;
    const statement = this.sqlite.prepare(sqlText);
    if (cached !== undefined) return statement;
    if (this.statements.size >= this.limit) this.statements.delete(this.statements.keys().next().value!);
    this.statements.set(sqlText, statement);
    return statement;
  }
}
