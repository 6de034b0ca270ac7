import { sql } from "kysely";
import type { Ledger } from "./ledger.js";
import { postgresInfo, WRITE_CHANNEL, type PgClient, type PostgresLedgerInfo } from "./postgres-ledger.js";

/** A running watch of other processes' writes to the ledger. */
export interface LedgerWatch {
  close(): Promise<void>;
}

/**
 * Calls `onChange` when another process commits a write to the ledger (a
 * hook, `gaffer pause`, `session send`...). SQLite: polls `PRAGMA
 * data_version` (cheap; it changes only on other connections' commits).
 * PostgreSQL: LISTENs on the write channel its triggers notify, ignoring
 * this process's own writes; a lost connection is reopened (and `onChange`
 * called once, since writes may have been missed meanwhile).
 */
export function watchLedgerWrites(db: Ledger, onChange: () => void, options: { readonly intervalMs?: number; readonly onError?: (error: unknown) => void } = {}): LedgerWatch {
  const info = postgresInfo(db);
  return info === undefined ? pollDataVersion(db, onChange, options.intervalMs ?? 200) : listenForWrites(info, onChange, options.onError ?? (() => undefined));
}

function pollDataVersion(db: Ledger, onChange: () => void, intervalMs: number): LedgerWatch {
  let last: number | null = null;
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    sql<{ data_version: number }>`pragma data_version`
      .execute(db)
      .then((result) => {
        const version = result.rows[0]?.data_version ?? null;
        if (last !== null && version !== last) onChange();
        last = version;
      })
      .catch(() => undefined)
      .finally(() => {
        busy = false;
      });
  }, intervalMs);
  return { close: async () => clearInterval(timer) };
}

const RECONNECT_MS = 1000;

function listenForWrites(info: PostgresLedgerInfo, onChange: () => void, onError: (error: unknown) => void): LedgerWatch {
  let closed = false;
  let client: PgClient | null = null;
  let retry: NodeJS.Timeout | undefined;
  const connect = async (reconnecting: boolean): Promise<void> => {
    const next = new info.pg.Client({ connectionString: info.url, application_name: `${info.applicationName}:listen`.slice(0, 63) });
    const lost = (error?: Error): void => {
      if (client !== next || closed) return;
      client = null;
      if (error !== undefined) onError(error);
      retry = setTimeout(() => void connect(true), RECONNECT_MS);
    };
    next.on("error", lost);
    next.on("end", () => lost());
    next.on("notification", (message) => {
      if (message.channel === WRITE_CHANNEL && message.payload !== info.applicationName) onChange();
    });
    client = next;
    try {
      await next.connect();
      await next.query(`listen ${WRITE_CHANNEL}`);
      if (closed) await next.end();
      else if (reconnecting) onChange();
    } catch (error) {
      await next.end().catch(() => undefined);
      lost(error as Error);
    }
  };
  void connect(false);
  return {
    close: async () => {
      closed = true;
      clearTimeout(retry);
      await client?.end().catch(() => undefined);
    },
  };
}
