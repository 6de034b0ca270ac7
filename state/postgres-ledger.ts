import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { hostname } from "node:os";
import { Kysely, Migrator, PostgresDialect, sql, type Migration, type PostgresPool, type PostgresPoolClient } from "kysely";
import { wantsArrayRows } from "./array-rows.js";
import { isGafferError, LedgerMigrationError, LedgerUnreachableError } from "./errors.js";
import type { Database } from "./database.js";
import { dialectOf } from "./dialect.js";
import { MIGRATIONS, staticMigrations } from "./migrations/index.js";
import { translatePostgresError } from "./postgres-faults.js";

/** The part of the `pg` driver gaffer uses (loaded on first use: a SQLite ledger never needs it). */
export interface PgClientConfig {
  readonly connectionString: string;
  readonly application_name?: string;
  readonly max?: number;
  readonly idleTimeoutMillis?: number;
  readonly connectionTimeoutMillis?: number;
}

interface PgPool extends PostgresPool {
  connect(): Promise<PostgresPoolClient>;
  on(event: "error", listener: (error: Error) => void): unknown;
}

/** A notification as `pg` delivers it. */
export interface PgNotification {
  readonly channel: string;
  readonly payload?: string;
}

/** One dedicated `pg` connection (LISTEN needs one that no pool hands out). */
export interface PgClient {
  connect(): Promise<void>;
  query(text: string): Promise<unknown>;
  on(event: "notification", listener: (message: PgNotification) => void): unknown;
  on(event: "error" | "end", listener: (error?: Error) => void): unknown;
  end(): Promise<void>;
}

interface PgModule {
  readonly Pool: new (config: PgClientConfig) => PgPool;
  readonly Client: new (config: PgClientConfig) => PgClient;
}

/** What a PostgreSQL ledger handle remembers: how to open a LISTEN connection, and its own name on the server. */
export interface PostgresLedgerInfo {
  readonly url: string;
  readonly display: string;
  /** Every connection of this process's ledger carries it; write notifications name it (so own writes are told apart). */
  readonly applicationName: string;
  readonly pg: PgModule;
}

/** The channel every write to a PostgreSQL ledger notifies (statement-level triggers), with the writer's application name. */
export const WRITE_CHANNEL = "gaffer_ledger";

const INFO = new WeakMap<object, PostgresLedgerInfo>();

/** How to reach the PostgreSQL ledger behind `db` again, or undefined for a SQLite ledger. */
export function postgresInfo(db: Kysely<any>): PostgresLedgerInfo | undefined {
  return INFO.get(db);
}

const DRIVER = "pg";

/**
 * Loads `pg` the way CommonJS resolves it: beside gaffer (its node_modules),
 * else NODE_PATH and the global folders, so a driver installed system-wide
 * serves too.
 */
function loadPg(display: string): PgModule {
  try {
    return createRequire(import.meta.url)(DRIVER) as PgModule;
  } catch (error) {
    throw new LedgerUnreachableError(`the PostgreSQL ledger ${display} needs the PostgreSQL driver (the npm package pg), which is not installed beside gaffer; install it (\`npm install pg\` in gaffer's directory, or put it on NODE_PATH), or unset GAFFER_LEDGER_URL and spec.ledger.url to use the SQLite ledger`, { cause: error });
  }
}

/** Options of openPostgresLedger. */
export interface OpenPostgresOptions {
  readonly migrations?: Readonly<Record<string, Migration>>;
  /** Pool size (default 4: a CLI needs one, the controller a few). */
  readonly maxConnections?: number;
}

/**
 * Opens the PostgreSQL ledger at `url` (`display` is the URL without its
 * password, for messages) and migrates it to the latest schema in one
 * transaction (kysely's migrator holds an advisory lock meanwhile, so two
 * first opens do not both migrate). Faults are named (state/postgres-faults.ts).
 */
export async function openPostgresLedger(url: string, display: string, options: OpenPostgresOptions = {}): Promise<Kysely<Database>> {
  const pg = loadPg(display);
  const applicationName = `gaffer:${hostname().slice(0, 24)}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const pool = new pg.Pool({ connectionString: url, application_name: applicationName, max: options.maxConnections ?? 4, idleTimeoutMillis: 10_000, connectionTimeoutMillis: 10_000 });
  // A pooled idle connection the server dropped: the next query opens a new one (and names its own fault).
  pool.on("error", () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: faultNamingPool(display, pool) }) });
  INFO.set(db, { url, display, applicationName, pg });
  try {
    await migratePostgres(db, display, options.migrations ?? MIGRATIONS);
  } catch (error) {
    await db.destroy();
    throw translatePostgresError(display, error);
  }
  return db;
}

function faultNamingPool(display: string, pool: PgPool): PostgresPool {
  return {
    connect: async (): Promise<PostgresPoolClient> => {
      const client = await pool.connect().catch((error: unknown) => Promise.reject(translatePostgresError(display, error)));
      const send = (client.query as (query: string | { text: string; values: readonly unknown[]; rowMode: "array" }, p?: readonly unknown[]) => Promise<unknown>).bind(client);
      const query = (text: string, parameters: readonly unknown[]): Promise<unknown> =>
        (wantsArrayRows(text) ? send({ text, values: parameters, rowMode: "array" }) : send(text, parameters)).catch((error: unknown) => Promise.reject(translatePostgresError(display, error)));
      return { query: query as PostgresPoolClient["query"], release: (destroy?: boolean) => client.release(destroy) };
    },
    end: () => pool.end(),
  };
}

async function migratePostgres(db: Kysely<Database>, display: string, migrations: Readonly<Record<string, Migration>>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const outcome = await new Migrator({ db, provider: staticMigrations(migrations), allowUnorderedMigrations: true }).migrateToLatest();
    if (outcome.error === undefined) {
      if ((outcome.results ?? []).length > 0) await installWriteNotifications(db);
      return;
    }
    const translated = translatePostgresError(display, outcome.error);
    if (translated !== outcome.error || isGafferError(outcome.error)) throw translated;
    // Two first opens racing to create kysely's own bookkeeping tables (before its lock exists): the loser retries.
    const raced = /already exists|duplicate key/.test(String((outcome.error as Error).message));
    if (raced && attempt < 5) continue;
    const failed = outcome.results?.find((r) => r.status === "Error")?.migrationName ?? "unknown";
    throw new LedgerMigrationError(`migration ${failed} failed on ${display}: ${(outcome.error as Error).message}`, { cause: outcome.error });
  }
}

/**
 * Every table notifies WRITE_CHANNEL once per writing statement, with the
 * writer's application name, when its transaction commits: a controller
 * LISTENs there instead of polling (state/ledger-watch.ts). Installed after
 * each migration run, so tables added later notify too.
 */
async function installWriteNotifications(db: Kysely<Database>): Promise<void> {
  const dialect = dialectOf(db);
  await dialect.writeTransaction(db, async (trx) => {
    await sql
      .raw(`create or replace function gaffer_notify_write() returns trigger language plpgsql as $$ begin perform pg_notify('${WRITE_CHANNEL}', current_setting('application_name')); return null; end $$`)
      .execute(trx);
    for (const table of await dialect.tableNames(trx)) {
      await sql`create or replace trigger gaffer_notify_write after insert or update or delete on ${sql.table(table)} for each statement execute function gaffer_notify_write()`.execute(trx);
    }
  });
}
