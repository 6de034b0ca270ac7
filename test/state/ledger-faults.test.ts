import SqliteDatabase from "better-sqlite3";
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { appendEvent, listEvents } from "../../state/events.repository.js";
import { immediateTransaction, openLedger } from "../../state/ledger.js";
import { runGaffer } from "../helpers/cli.js";
import { controlDir } from "../helpers/control-dir.js";
import { fillDisk, mountReadOnly, mountTmpfs } from "../helpers/mounts.js";
import { tempDir } from "../helpers/temp.js";

const EVENT = { actor: "test", action: "Probe", subject: "ledger", payload: {} };

/** A ledger with some history, closed. */
async function seededLedger(dir: string, events = 1): Promise<string> {
  const file = join(dir, ".gaffer", "ledger.sqlite");
  const db = await openLedger(file);
  for (let i = 0; i < events; i++) await appendEvent(db, { ...EVENT, subject: `s${i}`, payload: { i, pad: "x".repeat(200) } });
  await db.destroy();
  return file;
}

describe("ledger faults have names and next steps", () => {
  it("corrupted pages found mid-run are LEDGER_CORRUPT", async () => {
    const file = await seededLedger(tempDir(), 2000);
    // Pages of the events table itself (where the schema puts them moves as migrations add tables).
    const raw = new SqliteDatabase(file, { readonly: true });
    const pages = (raw.prepare("select pageno from dbstat where name = 'events' order by pageno").all() as { pageno: number }[]).map((p) => p.pageno);
    raw.close();
    expect(pages.length).toBeGreaterThan(40);
    const fd = openSync(file, "r+");
    for (const page of pages.slice(10, 30)) writeSync(fd, Buffer.alloc(4096, 0xa5), 0, 4096, (page - 1) * 4096);
    closeSync(fd);
    const db = await openLedger(file);
    await expect(listEvents(db, { limit: 5000 })).rejects.toMatchObject({ code: "LEDGER_CORRUPT", message: `${file} is not a readable SQLite ledger (SQLITE_CORRUPT: database disk image is malformed); stop the controller, move the file aside to start a new ledger, or restore it from a backup` });
    await db.destroy();
  });

  it("a read-only ledger file is LEDGER_READONLY on the first write", async () => {
    const file = await seededLedger(tempDir());
    mountReadOnly(file);
    const db = await openLedger(file);
    await expect(appendEvent(db, EVENT)).rejects.toMatchObject({ code: "LEDGER_READONLY", message: expect.stringMatching(/cannot be written \(SQLITE_READONLY: attempt to write a readonly database\); make the file and .*\.gaffer\/ writable for this user/) as string });
    await db.destroy();
  });

  it("a read-only .gaffer/ is LEDGER_READONLY when the ledger opens", async () => {
    const dir = tempDir();
    const file = await seededLedger(dir);
    mountReadOnly(join(dir, ".gaffer"));
    await expect(openLedger(file)).rejects.toMatchObject({ code: "LEDGER_READONLY", message: `${file} cannot be written (SQLITE_CANTOPEN: unable to open database file); make the file and ${join(dir, ".gaffer")}/ writable for this user (chmod u+w, or remount the filesystem read-write), then retry` });
  });

  it("a write lock held past the busy timeout is LEDGER_LOCKED, and the holder's transaction is unharmed", async () => {
    const file = await seededLedger(tempDir());
    const holder = await openLedger(file);
    const waiter = await openLedger(file, { busyTimeoutMs: 50 });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const transaction = immediateTransaction(holder, async (trx) => {
      await appendEvent(trx, { ...EVENT, action: "Held" });
      locked();
      await held;
    });
    await isLocked;
    await expect(immediateTransaction(waiter, (trx) => appendEvent(trx, EVENT))).rejects.toMatchObject({ code: "LEDGER_LOCKED", message: `${file} is locked by another process (SQLITE_BUSY: database is locked); wait for it to finish or stop it, then retry` });
    release();
    await transaction;
    expect((await listEvents(waiter, { action: "Held" })).length).toBe(1);
    await holder.destroy();
    await waiter.destroy();
  });

  it("a ledger deleted while open is LEDGER_MISSING at the next transaction, not written silently", async () => {
    const dir = tempDir();
    const file = await seededLedger(dir);
    const db = await openLedger(file);
    rmSync(join(dir, ".gaffer"), { recursive: true });
    await expect(immediateTransaction(db, (trx) => appendEvent(trx, EVENT))).rejects.toMatchObject({ code: "LEDGER_MISSING", message: `${file} is gone: it (or ${join(dir, ".gaffer")}/) was deleted or moved while in use (the file no longer exists); stop the controller and put it back from a backup; starting again with a new ledger loses its history` });
    await db.destroy();
  });

  it("a full disk fails a transaction as LEDGER_DISK_FULL (no 'cannot rollback' in its place), and writes go on once space is freed", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, ".gaffer"));
    mountTmpfs(join(dir, ".gaffer"), "2m");
    const file = await seededLedger(dir);
    const db = await openLedger(file);
    const filler = fillDisk(join(dir, ".gaffer", "filler"));
    const big = { ...EVENT, payload: { pad: "y".repeat(600_000) } };
    const failure = await immediateTransaction(db, (trx) => appendEvent(trx, big)).then(() => null, (error: unknown) => error);
    expect(failure).toMatchObject({ code: "LEDGER_DISK_FULL", message: expect.stringMatching(/^the disk holding \S+ledger\.sqlite is full \(SQLITE_(FULL|IOERR\w*): .*\); free space on that filesystem, then retry/) as string });
    rmSync(filler);
    await immediateTransaction(db, (trx) => appendEvent(trx, big));
    expect((await listEvents(db, { action: "Probe" })).length).toBe(2);
    await db.destroy();
  });
});

describe("CLI verbs report the named fault, never INTERNAL", () => {
  it("pause --all and status on a full disk: LEDGER_DISK_FULL; after freeing space pause works", async () => {
    const { dir } = controlDir({ tasks: [{ name: "one" }] });
    mkdirSync(join(dir, ".gaffer"));
    mountTmpfs(join(dir, ".gaffer"), "2m");
    await seededLedger(dir);
    const filler = fillDisk(join(dir, ".gaffer", "filler"));
    for (const args of [["pause", "--all"], ["status"]]) {
      const result = await runGaffer([...args, "--dir", dir]);
      expect(result.exitCode, args.join(" ")).toBe(1);
      expect(result.stderr).toMatch(/^error: LEDGER_DISK_FULL: the disk holding \S+ is full \(SQLITE_\w+: .*\); free space on that filesystem, then retry/m);
    }
    rmSync(filler);
    const paused = await runGaffer(["pause", "--all", "--dir", dir]);
    expect(paused.stderr).toBe("");
    expect(paused.exitCode).toBe(0);
  }, 60_000);

  it("pause --all on a read-only .gaffer/ is LEDGER_READONLY", async () => {
    const { dir } = controlDir({ tasks: [{ name: "one" }] });
    await seededLedger(dir);
    mountReadOnly(join(dir, ".gaffer"));
    const result = await runGaffer(["pause", "--all", "--dir", dir]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("error: LEDGER_READONLY: ");
  }, 30_000);
});
