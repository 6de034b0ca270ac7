/**
 * The base of every gaffer error (a literal `code`, an exit code, details
 * for `--json`, the line `error: CODE: message`) and the errors the ledger
 * raises. controller/errors.ts re-exports them beside every other error.
 */
export abstract class GafferError extends Error {
  abstract readonly code: string;
  /** Process exit code for this failure. */
  readonly exitCode: number = 1;
  /** Structured detail for `--json` output and the ledger. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.details = options.details ?? {};
  }

  /** The one line a user sees. */
  toLine(): string {
    return `error: ${this.code}: ${this.message}`;
  }
}

export class LedgerCorruptError extends GafferError {
  readonly code = "LEDGER_CORRUPT";
}

export class LedgerLockedError extends GafferError {
  readonly code = "LEDGER_LOCKED";
}

/** The filesystem holding the ledger is full (SQLITE_FULL, ENOSPC). */
export class LedgerDiskFullError extends GafferError {
  readonly code = "LEDGER_DISK_FULL";
}

/** The ledger file or its directory cannot be written (SQLITE_READONLY, EROFS, EACCES). */
export class LedgerReadonlyError extends GafferError {
  readonly code = "LEDGER_READONLY";
}

/** The ledger file (or `.gaffer/`) is gone: deleted or moved, before or while in use. */
export class LedgerMissingError extends GafferError {
  readonly code = "LEDGER_MISSING";
}

export class LedgerMigrationError extends GafferError {
  readonly code = "LEDGER_MIGRATION_FAILED";
}

/** The PostgreSQL ledger cannot be reached, refused the login, or the driver is missing. */
export class LedgerUnreachableError extends GafferError {
  readonly code = "LEDGER_UNREACHABLE";
}

/** GAFFER_LEDGER_URL or spec.ledger.url cannot name a PostgreSQL database. */
export class LedgerUrlInvalidError extends GafferError {
  readonly code = "LEDGER_URL_INVALID";
  override readonly exitCode = 2;
}

/** `gaffer ledger migrate --to` found rows in the target: it copies only into an empty ledger. */
export class LedgerTargetNotEmptyError extends GafferError {
  readonly code = "LEDGER_TARGET_NOT_EMPTY";
}

/** The ledger's backend cannot do this (e.g. `compact`'s archive copy on PostgreSQL). */
export class LedgerUnsupportedError extends GafferError {
  readonly code = "LEDGER_UNSUPPORTED";
}

export class CapacityExceededError extends GafferError {
  readonly code = "CAPACITY_EXCEEDED";
}

export function isGafferError(value: unknown): value is GafferError {
  return value instanceof GafferError;
}
