import SqliteDatabase from "better-sqlite3";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Kysely } from "kysely";
import { expect, test } from "vitest";
import { appendEvent, listEvents } from "../../state/events.repository.js";
import { immediateTransaction, openLedger } from "../../state/ledger.js";
import { MIGRATIONS } from "../../state/migrations/index.js";
import { runGaffer } from "../helpers/cli.js";
import { tempDir } from "../helpers/temp.js";

const TABLES = ["approvals", "commands", "effects", "events", "gates", "memory", "merges", "reservations", "sessions", "stages", "tasks", "worktrees"];

function tableNames(file: string): string[] {
  const raw = new SqliteDatabase(file, { readonly: true });
  const rows = raw.prepare("select name from sqlite_master where type = 'table' and name not like 'kysely_%' and name not like 'sqlite_%' order by name").all() as { name: string }[];
  raw.close();
  return rows.map((r) => r.name);
}

test("migrates an empty file to the latest schema, with WAL and foreign keys", async () => {
  const file = join(tempDir(), "ledger.sqlite");
  const db = await openLedger(file);
  await db.destroy();
  expect(tableNames(file)).toEqual(expect.arrayContaining(TABLES));
  const raw = new SqliteDatabase(file);
  expect(raw.pragma("journal_mode", { simple: true })).toBe("wal");
  raw.close();
});

test("a ledger built by an older migration set upgrades in place and keeps its rows", async () => {
  const file = join(tempDir(), "ledger.sqlite");
  const old = await openLedger(file, { migrations: { "0001_create_events": MIGRATIONS["0001_create_events"]! } });
  await appendEvent(old, { actor: "test", action: "Legacy", subject: "project/p", payload: { n: 1 } });
  await old.destroy();
  expect(tableNames(file)).toEqual(["events"]);

  const db = await openLedger(file);
  const events = await listEvents(db);
  await db.destroy();
  expect(events.map((e) => [e.action, e.payload])).toEqual([["Legacy", { n: 1 }]]);
  expect(tableNames(file)).toEqual(expect.arrayContaining(TABLES));
});

test("a state change and its event are one transaction: a failure inside leaves neither", async () => {
  const db = await openLedger(join(tempDir(), "ledger.sqlite"));
  const attempt = immediateTransaction(db, async (trx) => {
    await trx.insertInto("stages").values({ name: "build", phase: "Running", generation: null, plan_digest: null, started_at: null, finished_at: null, updated_at: "2026-01-01T00:00:00.000Z" }).execute();
    await appendEvent(trx, { actor: "test", action: "StageStarted", subject: "stage/build" });
    throw new Error("forced failure after both writes");
  });
  await expect(attempt).rejects.toThrow("forced failure after both writes");
  expect(await db.selectFrom("stages").selectAll().execute()).toEqual([]);
  expect(await listEvents(db)).toEqual([]);
  await immediateTransaction(db, async (trx) => {
    await trx.insertInto("stages").values({ name: "build", phase: "Running", generation: null, plan_digest: null, started_at: null, finished_at: null, updated_at: "2026-01-01T00:00:00.000Z" }).execute();
    await appendEvent(trx, { actor: "test", action: "StageStarted", subject: "stage/build" });
  });
  expect((await listEvents(db)).map((e) => e.action)).toEqual(["StageStarted"]);
  await db.destroy();
});

test("a locked ledger is LEDGER_LOCKED with what to do", async () => {
  const file = join(tempDir(), "ledger.sqlite");
  (await openLedger(file, { migrations: { "0001_create_events": MIGRATIONS["0001_create_events"]! } })).destroy();
  const holder = new SqliteDatabase(file);
  holder.exec("begin exclusive");
  try {
    await expect(openLedger(file, { busyTimeoutMs: 50 })).rejects.toMatchObject({
      code: "LEDGER_LOCKED",
      message: `${file} is locked by another process (SQLITE_BUSY: database is locked); wait for it to finish or stop it, then retry`,
    });
  } finally {
    holder.exec("rollback");
    holder.close();
  }
});

test("a corrupt ledger file gives LEDGER_CORRUPT on the CLI, never a stack trace", async () => {
  const dir = tempDir();
  mkdirSync(join(dir, ".gaffer"));
  writeFileSync(join(dir, ".gaffer", "ledger.sqlite"), "this is not a database, just text that is long enough to look like a header".repeat(20));
  const result = await runGaffer(["log", "--dir", dir]);
  expect(result.exitCode).toBe(1);
  expect(result.stderr).toBe(`error: LEDGER_CORRUPT: ${join(dir, ".gaffer", "ledger.sqlite")} is not a readable SQLite ledger (SQLITE_NOTADB: file is not a database); stop the controller, move the file aside to start a new ledger, or restore it from a backup`);
});

test("slots held by nobody (a closed session, or none ever recorded) are released; a fresh pending one is kept", async () => {
  const { releaseOrphanedReservations, readCapacityUsage } = await import("../../state/capacity.repository.js");
  const { reserveCapacity } = await import("../../controller/sessions/reserve-capacity.js");
  const db = await openLedger(join(tempDir(), "ledger.sqlite"));
  const limits = { global: 5, perAgent: { scripted: 5 }, perRole: {} };
  const old = await reserveCapacity(db, limits, { agent: "scripted", role: "builder", holder: "pending:gone-1", actor: "test" });
  await reserveCapacity(db, limits, { agent: "scripted", role: "builder", holder: "pending:starting-2", actor: "test" });
  await db.updateTable("reservations").set({ acquired_at: new Date(Date.now() - 600_000).toISOString() }).where("id", "=", old.id).execute();
  expect(await releaseOrphanedReservations(db, "test")).toBe(1);
  expect((await readCapacityUsage(db)).global).toBe(1);
  const [event] = await listEvents(db, { action: "CapacityReleased" });
  expect(event!.payload).toMatchObject({ reservation: old.id, reason: "no session was ever recorded for it" });
  await db.destroy();
});

test("migrations are all or nothing: one that fails (or a process killed in one) leaves none of this open's changes, and the next open applies them once", async () => {
  const file = join(tempDir(), "ledger.sqlite");
  const base = { "0001_create_events": MIGRATIONS["0001_create_events"]! };
  (await openLedger(file, { migrations: base })).destroy();
  // A migration that adds a column and then dies (as `kill -9` in the middle of it would).
  const broken = {
    ...base,
    "0002_extra": { up: async (db: Kysely<unknown>) => {
      await db.schema.alterTable("events").addColumn("extra", "text").execute();
      throw new Error("died half way");
    } },
  };
  await expect(openLedger(file, { migrations: broken })).rejects.toThrow(/migration 0002_extra failed on .*: died half way/);
  const columns = (): string[] => {
    const raw = new SqliteDatabase(file, { readonly: true });
    try {
      return (raw.prepare("select name from pragma_table_info('events')").all() as { name: string }[]).map((c) => c.name);
    } finally {
      raw.close();
    }
  };
  expect(columns()).not.toContain("extra");
  const fixed = { ...base, "0002_extra": { up: async (db: Kysely<unknown>) => db.schema.alterTable("events").addColumn("extra", "text").execute() } };
  (await openLedger(file, { migrations: fixed })).destroy();
  expect(columns().filter((c) => c === "extra")).toEqual(["extra"]);
});
