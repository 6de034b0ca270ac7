import { join } from "node:path";
import { LedgerUrlInvalidError } from "./errors.js";

/** Where the SQLite ledger lives under a control dir (the default backend). */
export const LEDGER_FILE = ".gaffer/ledger.sqlite";

/** The environment variable that names a PostgreSQL ledger; it wins over the manifest. */
export const LEDGER_URL_ENV = "GAFFER_LEDGER_URL";

/** Which ledger a control dir uses: its SQLite file, or a PostgreSQL database. */
export type LedgerTarget =
  | { readonly kind: "sqlite"; readonly file: string; readonly display: string }
  | { readonly kind: "postgres"; readonly url: string; readonly display: string };

/** Whether `url` names PostgreSQL (`postgres://` or `postgresql://`). */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url.trim());
}

/** The password part of a connection URL, or null when it has none (or is no URL). */
export function urlPassword(url: string): string | null {
  try {
    const parsed = new URL(url.trim());
    return parsed.password === "" ? null : decodeURIComponent(parsed.password);
  } catch {
    return null;
  }
}

/** `url` with its password replaced by `***`: what logs, errors and status show. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url.trim());
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@]*@/, "//$1:***@");
  }
}

/** Why `url` cannot name a ledger (null when it can). */
export function ledgerUrlProblem(url: string): string | null {
  if (!isPostgresUrl(url)) return "is not a PostgreSQL URL: write postgres://USER@HOST:PORT/DATABASE";
  try {
    const parsed = new URL(url.trim());
    if (parsed.hostname === "" && !parsed.searchParams.has("host")) return "names no host: write postgres://USER@HOST:PORT/DATABASE";
    return null;
  } catch {
    return "is not a valid URL: write postgres://USER@HOST:PORT/DATABASE";
  }
}

/**
 * The ledger of the control dir `controlDir`: `GAFFER_LEDGER_URL` when set,
 * else the Project's `spec.ledger.url`, else `.gaffer/ledger.sqlite`. A URL
 * that cannot name a PostgreSQL database is LEDGER_URL_INVALID (never a
 * silent fall back to SQLite, which would split the audit trail).
 */
export function resolveLedgerTarget(controlDir: string, manifestUrl: string | undefined, env: NodeJS.ProcessEnv = process.env): LedgerTarget {
  const fromEnv = env[LEDGER_URL_ENV]?.trim();
  const url = fromEnv !== undefined && fromEnv !== "" ? fromEnv : manifestUrl?.trim();
  if (url === undefined || url === "") {
    const file = join(controlDir, LEDGER_FILE);
    return { kind: "sqlite", file, display: file };
  }
  const source = url === fromEnv ? LEDGER_URL_ENV : "spec.ledger.url";
  const problem = ledgerUrlProblem(url);
  if (problem !== null) throw new LedgerUrlInvalidError(`${source} ${JSON.stringify(redactUrl(url))} ${problem}`, { details: { source } });
  return { kind: "postgres", url, display: redactUrl(url) };
}
