import { isGafferError, LedgerDiskFullError, LedgerReadonlyError, LedgerUnreachableError, type GafferError } from "./errors.js";

/**
 * PostgreSQL ledger faults with names, like state/sqlite-faults.ts for the
 * file: a server that is down, a login refused, a database that does not
 * exist, a full disk or a read-only server become one coded error that says
 * what to do. Anything else (a constraint, a bug) is returned unchanged.
 */

const UNREACHABLE_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "ECONNRESET", "EHOSTUNREACH", "57P01", "57P02", "57P03", "08000", "08001", "08003", "08004", "08006"]);

function codeOf(error: unknown): string {
  return String((error as { code?: unknown } | null)?.code ?? "");
}

function reason(error: unknown): string {
  const message = (error as Error | null)?.message ?? String(error);
  const code = codeOf(error);
  return code === "" || message.includes(code) ? message : `${code}: ${message}`;
}

/** The named fault for `error` on the PostgreSQL ledger `display` (a URL without its password), or null. */
export function postgresFault(display: string, error: unknown): GafferError | null {
  const code = codeOf(error);
  const options = { cause: error, details: { ledger: display, cause: code || undefined } };
  const message = (error as Error | null)?.message ?? "";
  if (UNREACHABLE_CODES.has(code) || /Connection terminated|connect ECONNREFUSED|timeout expired/i.test(message)) {
    return new LedgerUnreachableError(`the PostgreSQL ledger ${display} cannot be reached (${reason(error)}); start the server or fix the host and port in GAFFER_LEDGER_URL or spec.ledger.url, then retry (a running controller retries by itself)`, options);
  }
  if (code === "28P01" || code === "28000") {
    return new LedgerUnreachableError(`the PostgreSQL ledger ${display} refused the login (${reason(error)}); give the password through PGPASSWORD or ~/.pgpass (never in a manifest), or check the user name`, options);
  }
  if (code === "3D000") {
    return new LedgerUnreachableError(`the database of the PostgreSQL ledger ${display} does not exist (${reason(error)}); create it (\`createdb NAME\`, owned by the ledger's user), then retry: gaffer creates its tables itself`, options);
  }
  if (code === "53100") {
    return new LedgerDiskFullError(`the disk of the PostgreSQL server holding ${display} is full (${reason(error)}); free space on the server, then retry (a running controller retries by itself)`, options);
  }
  if (code === "25006" || code === "42501") {
    return new LedgerReadonlyError(`the PostgreSQL ledger ${display} cannot be written (${reason(error)}); grant the ledger's user write access (or connect to the primary, not a standby), then retry`, options);
  }
  return null;
}

/** Maps driver errors a user can meet to errors that say what to do (others unchanged). */
export function translatePostgresError(display: string, error: unknown): unknown {
  if (isGafferError(error)) return error;
  return postgresFault(display, error) ?? error;
}
