/**
 * The ledger's two backends for a parameterised test: a new SQLite file or a
 * new PostgreSQL database (test/helpers/postgres.ts), named by one string a
 * child process can take on its command line too.
 */
import { join } from "node:path";
import { openLedgerAt, type Ledger, type OpenLedgerOptions } from "../../state/ledger.js";
import { isPostgresUrl, redactUrl, type LedgerTarget } from "../../state/ledger-target.js";
import { testDatabase } from "./postgres.js";
import { tempDir } from "./temp.js";

export const BACKENDS = ["sqlite", "postgres"] as const;
export type Backend = (typeof BACKENDS)[number];

/** A fresh, empty ledger location: a file path (SQLite) or a database URL (PostgreSQL). */
export async function newLedgerLocation(backend: Backend): Promise<string> {
  return backend === "sqlite" ? join(tempDir(), "ledger.sqlite") : testDatabase();
}

/** The target a location names. */
export function targetOf(location: string): LedgerTarget {
  return isPostgresUrl(location) ? { kind: "postgres", url: location, display: redactUrl(location) } : { kind: "sqlite", file: location, display: location };
}

/** Opens (migrating) the ledger at `location`. */
export async function openLocation(location: string, options: OpenLedgerOptions = {}): Promise<Ledger> {
  return openLedgerAt(targetOf(location), options);
}

/** A fresh ledger of `backend`, opened. */
export async function newLedger(backend: Backend): Promise<Ledger> {
  return openLocation(await newLedgerLocation(backend));
}
