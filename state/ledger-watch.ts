import { basename, dirname } from "node:path";
import { sql } from "kysely";
import { watchDirectoryEntries } from "./file-events.js";
import type { Ledger } from "./ledger.js";
import { postgresInfo, WRITE_CHANNEL, type PgClient, type PostgresLedgerInfo } from "./postgres-ledger.js";

/** A running watch of other processes' writes to the ledger. */
export interface LedgerWatch {
  close(): Promise<void>;
}

/**
 * Calls `onChange` when another process commits a write to the ledger (a
 * hook, `gaffer pause`, `session send`...). SQLite: reads `PRAGMA
 * data_version` (it changes only on other connections' commits) when the
 * ledger's files change (a commit writes its WAL file: `file`'s directory is
 * watched, so an idle ledger wakes nobody), and every `intervalMs` (5 s) in
 * case a change went unseen; without a file, or where the directory cannot be
 * watched, every `pollMs` (200 ms).
 * PostgreSQL: LISTENs on the write channel its triggers notify, ignoring
 * this process's own writes; a lost connection is reopened (and `onChange`
 * called once, since writes may have been missed meanwhile).
 */
export function watchLedgerWrites(db: Ledger, onChange: () => void, options: { readonly file?: string; readonly intervalMs?: number; readonly pollMs?: number; readonly onError?: (error: unknown) => void } = {}): LedgerWatch {
  const info = postgresInfo(db);
  if (info !== undefined) return listenForWrites(info, onChange, options.onError ?? (() => undefined));
  const check = dataVersionCheck(db, onChange);
  const events = options.file === undefined ? null : watchDirectoryEntries(dirname(options.file), (name) => (name === null || name.startsWith(basename(options.file!)) ? check.soon() : undefined));
  const timer = setInterval(check.now, events === null ? (options.pollMs ?? 200) : (options.intervalMs ?? 5000));
  timer.unref();
  return {
    close: async () => {
      clearInterval(timer);
      events?.close();
      check.close();
    },
  };
}

/** Compares `pragma data_version` with the last value read; `soon` coalesces a burst of file events into one read. */
function dataVersionCheck(db: Ledger, onChange: () => void): { now(): void; soon(): void; close(): void } {
  const COALESCE_MS = 10;
  let last: number | null = null;
  let busy = false;
  let again = false;
  let pending: NodeJS.Timeout | undefined;
  const now = (): void => {
    if (busy) {
      again = true;
      return;
    }
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
        if (!again) return;
        again = false;
        now();
      });
  };
  const soon = (): void => {
    pending ??= setTimeout(() => {
      pending = undefined;
      now();
    }, COALESCE_MS);
  };
  now();
  return { now, soon, close: () => clearTimeout(pending) };
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
