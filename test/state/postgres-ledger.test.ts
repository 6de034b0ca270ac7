import { execa, type ResultPromise } from "execa";
import { existsSync, rmSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, expect, onTestFinished, test } from "vitest";
import { readControllerLease } from "../../state/controller-lease.repository.js";
import { appendEvent, listEvents } from "../../state/events.repository.js";
import { openLedger } from "../../state/ledger.js";
import { watchLedgerWrites } from "../../state/ledger-watch.js";
import { growLedger } from "../bench/ledger-scale.js";
import { GAFFER_BIN, runGaffer } from "../helpers/cli.js";
import { controlDir } from "../helpers/control-dir.js";
import { openLocation } from "../helpers/ledger-backends.js";
import { adminQuery, testDatabase } from "../helpers/postgres.js";
import { waitFor } from "../helpers/temp.js";

/** `gaffer up` as a process on another "machine": its own UTS namespace with hostname `host`. */
function upOnHost(dir: string, host: string, env: Record<string, string>): ResultPromise {
  return execa("unshare", ["-u", "sh", "-c", `hostname ${host} && exec "$@"`, "sh", process.execPath, GAFFER_BIN, "up", "--dir", dir], { env: { TMUX: "", ...env }, reject: false });
}

describe("the controller lease on a PostgreSQL ledger", () => {
  test("a second controller is refused naming the holder's pid and host, and takes over once the killed holder's lease expires", async () => {
    const url = await testDatabase();
    const env = { GAFFER_LEDGER_URL: url };
    const socket = `gaffer-pg-lease-${process.pid}`;
    onTestFinished(async () => {
      await execa("tmux", ["-L", socket, "kill-server"], { reject: false, env: { TMUX: "" } });
    });
    const { dir } = controlDir({ project: { tmuxSocket: socket }, tasks: [{ name: "t1" }] });
    const first = upOnHost(dir, "machine-a", env);
    const db = await openLocation(url);
    const held = await waitFor(async () => ((await readControllerLease(db))?.host === "machine-a" ? readControllerLease(db) : undefined), { timeoutMs: 60_000, what: "machine-a holds the lease" });
    expect(held!.pid).toBe(first.pid);

    const refused = await runGaffer(["up", "--dir", dir], { env });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain(`error: CONTROLLER_LOCKED: another controller (pid ${first.pid} on machine-a) runs for this control dir`);

    first.kill("SIGKILL");
    await first;
    // Killed on another machine: nothing here can tell it is dead, so its lease stands until it expires.
    const stale = (await readControllerLease(db))!;
    const early = await runGaffer(["up", "--dir", dir], { env });
    if (Date.now() < Date.parse(stale.expiresAt)) expect(early.stderr).toContain(`error: CONTROLLER_LOCKED: another controller (pid ${first.pid} on machine-a)`);
    await waitFor(() => (Date.now() > Date.parse(stale.expiresAt) ? true : undefined), { timeoutMs: 30_000, what: "the dead holder's lease expires" });

    rmSync(join(dir, "status", "controller.yaml"), { force: true });
    const second = execa(process.execPath, [GAFFER_BIN, "up", "--dir", dir], { env: { TMUX: "", ...env }, reject: false });
    const taken = await waitFor(async () => ((await readControllerLease(db))?.pid === second.pid ? readControllerLease(db) : undefined), { timeoutMs: 60_000, what: "the second controller takes the lease" });
    expect(taken!.host).toBe(hostname());
    // Its first pass wrote its status: it is past start-up and stops cleanly on SIGINT.
    await waitFor(() => (existsSync(join(dir, "status", "controller.yaml")) ? true : undefined), { timeoutMs: 60_000, what: "the second controller's first pass" });
    const acquired = await listEvents(db, { action: "ControllerLeaseAcquired" });
    expect(acquired.at(-1)!.payload).toMatchObject({ reason: "expired", previous: { host: "machine-a", pid: first.pid } });
    second.kill("SIGINT");
    const stopped = await second;
    expect(await readControllerLease(db), stopped.stderr).toBeNull();
    await db.destroy();
  }, 120_000);
});

describe("other processes' writes wake a PostgreSQL ledger's watcher (LISTEN/NOTIFY)", () => {
  test("a write by another process is notified; this process's own writes are not", async () => {
    const url = await testDatabase();
    const own = await openLocation(url);
    const { dir } = controlDir({ project: { ledger: { url } }, tasks: [{ name: "t1" }] });
    let wakes = 0;
    const watch = watchLedgerWrites(own, () => wakes++);
    // The listening connection is up once a write of another process (a `gaffer pause`) is seen.
    await waitFor(async () => {
      await runGaffer(["pause", "--all", "--dir", dir]);
      return wakes > 0 ? true : undefined;
    }, { timeoutMs: 30_000, what: "the first notification" });
    const before = wakes;
    await appendEvent(own, { actor: "test", action: "OwnWrite", subject: "ledger" });
    const other = await runGaffer(["resume", "--all", "--dir", dir]);
    expect(other.exitCode, other.stderr).toBe(0);
    await waitFor(() => (wakes > before ? true : undefined), { timeoutMs: 10_000, what: "the other process's write is notified" });
    // Notifications arrive in commit order: had the own write (committed first) woken the watcher, it would count too.
    expect(wakes).toBe(before + 1);
    await watch.close();
    await own.destroy();
  }, 90_000);
});

describe("PostgreSQL faults a user meets are named", () => {
  test("a server that is not there, and a database that does not exist: LEDGER_UNREACHABLE with the next step, no password shown", async () => {
    const { dir } = controlDir({ tasks: [{ name: "t1" }] });
    const down = await runGaffer(["status", "--dir", dir], { env: { GAFFER_LEDGER_URL: "postgres://gaffer:pw@127.0.0.1:1/nothing" } });
    expect(down.exitCode).toBe(1);
    expect(down.stderr).toMatch(/^error: LEDGER_UNREACHABLE: the PostgreSQL ledger postgres:\/\/gaffer:\*\*\*@127\.0\.0\.1:1\/nothing cannot be reached \(.*ECONNREFUSED.*\); start the server or fix the host and port in GAFFER_LEDGER_URL or spec\.ledger\.url, then retry \(a running controller retries by itself\)$/m);
    const url = new URL(await testDatabase());
    url.pathname = "/no_such_database";
    const missing = await runGaffer(["status", "--dir", dir], { env: { GAFFER_LEDGER_URL: url.toString() } });
    expect(missing.stderr).toContain(`error: LEDGER_UNREACHABLE: the database of the PostgreSQL ledger ${url.toString()} does not exist`);
    expect(missing.stderr).toContain("create it (`createdb NAME`, owned by the ledger's user), then retry: gaffer creates its tables itself");
  }, 60_000);

  test("a listening connection the server drops is reopened, and the watcher wakes once for what it may have missed", async () => {
    const url = await testDatabase();
    const own = await openLocation(url);
    let wakes = 0;
    const watch = watchLedgerWrites(own, () => wakes++);
    const listener = async () => (await adminQuery(`select pid from pg_stat_activity where application_name like '%:listen' and datname = '${new URL(url).pathname.slice(1)}'`))[0]?.pid;
    const first = await waitFor(listener, { timeoutMs: 20_000, what: "the LISTEN connection" });
    await adminQuery(`select pg_terminate_backend(${Number(first)})`);
    await waitFor(async () => ((await listener()) !== undefined && (await listener()) !== first ? true : undefined), { timeoutMs: 20_000, what: "a new LISTEN connection" });
    await waitFor(() => (wakes >= 1 ? true : undefined), { timeoutMs: 10_000, what: "the wake after reconnecting" });
    await watch.close();
    await own.destroy();
  }, 60_000);
});

describe("gaffer ledger migrate --to URL", () => {
  test("copies a SQLite ledger into an empty PostgreSQL database with verified counts, then refuses a non-empty one", async () => {
    const { dir } = controlDir({ tasks: [{ name: "t1" }] });
    const file = join(dir, ".gaffer", "ledger.sqlite");
    await (await openLedger(file)).destroy();
    growLedger(file, 1_500, { spanDays: 2 });
    const url = await testDatabase();
    const result = await runGaffer(["ledger", "migrate", "--dir", dir, "--to", url, "--batch", "400", "--json"]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toContain("migrate: events 400/1500\nmigrate: events 800/1500\nmigrate: events 1200/1500\nmigrate: events 1500/1500\n");
    const copied = JSON.parse(result.stdout) as { tables: { name: string; source: number; target: number }[]; rows: number };
    expect(copied.tables.find((t) => t.name === "events")).toEqual({ name: "events", source: 1_500, target: 1_500 });
    expect(copied.tables.every((t) => t.source === t.target)).toBe(true);

    const stats = await runGaffer(["ledger", "stats", "--dir", dir, "--json"], { env: { GAFFER_LEDGER_URL: url } });
    expect(JSON.parse(stats.stdout).events.count).toBe(1_500);
    const again = await runGaffer(["ledger", "migrate", "--dir", dir, "--to", url]);
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toMatch(/^error: LEDGER_TARGET_NOT_EMPTY: the target ledger already has rows in .*events \(1500\).*; migrate copies only into an empty database: create a new one \(`createdb NAME`\) or empty this one \(`dropdb NAME && createdb NAME`\), then run migrate again$/m);
  }, 90_000);
});
