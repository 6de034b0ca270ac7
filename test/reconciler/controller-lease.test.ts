import { execa, type ResultPromise } from "execa";
import { renameSync, rmSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { fromPromise } from "xstate";
import { processStart } from "../../controller/adapters/proc-info.js";
import type { TaskEffects } from "../../controller/machines/task.machine.js";
import { takeOverReason } from "../../controller/reconciler/controller-lease.js";
import { runController } from "../../controller/reconciler/run-controller.js";
import { claimControllerLease, readControllerLease, type ControllerLease } from "../../state/controller-lease.repository.js";
import { listEvents } from "../../state/events.repository.js";
import { openLedger } from "../../state/ledger.js";
import { flowFixture } from "../helpers/flow-fixture.js";
import { tempDir, waitFor } from "../helpers/temp.js";
import { workerArgs } from "../helpers/worker-bundle.js";

const WORKER = fileURLToPath(new URL("../helpers/lease-worker.ts", import.meta.url));
const logger = pino({ level: "silent" });
const ROUNDS = 50;

/** A worker process and the JSON lines it printed, awaited one at a time. */
async function startWorker(file: string, id: string): Promise<{ proc: ResultPromise; next(): Promise<Record<string, unknown>>; send(line: string): void }> {
  const proc = execa(process.execPath, [...(await workerArgs(WORKER)), file, id], { stdin: "pipe" });
  const lines: string[] = [];
  const waiters: ((line: string) => void)[] = [];
  createInterface({ input: proc.stdout! }).on("line", (line) => (waiters.length > 0 ? waiters.shift()!(line) : lines.push(line)));
  return {
    proc,
    next: () => new Promise((resolve) => (lines.length > 0 ? resolve(JSON.parse(lines.shift()!)) : waiters.push((line) => resolve(JSON.parse(line))))),
    send: (line) => void proc.stdin!.write(`${line}\n`),
  };
}

describe("the controller lease", () => {
  it(`two processes racing for it ${ROUNDS} times from a start barrier: exactly one winner each round, every take ledgered`, async () => {
    const file = join(tempDir(), "ledger.sqlite");
    await (await openLedger(file)).destroy();
    const workers = await Promise.all([startWorker(file, "a"), startWorker(file, "b")]);
    for (const w of workers) expect(await w.next()).toMatchObject({ ready: true });
    const wins = { a: 0, b: 0 };
    for (let round = 1; round <= ROUNDS; round++) {
      const at = Date.now() + 30;
      for (const w of workers) w.send(`go ${round} ${at}`);
      const results = await Promise.all(workers.map((w) => w.next()));
      const winners = results.filter((r) => r.won === true);
      expect(winners, `round ${round}: ${JSON.stringify(results)}`).toHaveLength(1);
      expect(results.find((r) => r.won === false)).toMatchObject({ round, code: "CONTROLLER_LOCKED" });
      const winner = winners[0]!.id as "a" | "b";
      wins[winner]++;
      const w = workers[winner === "a" ? 0 : 1]!;
      w.send(`release ${round}`);
      expect(await w.next()).toMatchObject({ round, released: true });
    }
    for (const w of workers) {
      w.send("exit");
      w.proc.stdin!.end();
    }
    await Promise.all(workers.map((w) => w.proc));
    console.log(`lease race: ${ROUNDS} rounds, wins ${JSON.stringify(wins)}`);
    const db = await openLedger(file);
    expect(await listEvents(db, { action: "ControllerLeaseAcquired" })).toHaveLength(ROUNDS);
    expect(await listEvents(db, { action: "ControllerLeaseReleased" })).toHaveLength(ROUNDS);
    expect(await readControllerLease(db)).toBeNull();
    await db.destroy();
  }, 120_000);

  it("is taken over after expiry, at once from a dead holder or a reused pid on this host, never from a live one", async () => {
    const host = hostname();
    const now = Date.now();
    const lease = (over: Partial<ControllerLease>): ControllerLease => ({ holder: "h", pid: process.pid, host, processStart: processStart(process.pid), acquiredAt: "", heartbeatAt: "", expiresAt: new Date(now + 10_000).toISOString(), ...over });
    expect(takeOverReason(lease({}), now, host)).toBeNull();
    expect(takeOverReason(lease({ host: "elsewhere", pid: 999_999_999 }), now, host)).toBeNull();
    expect(takeOverReason(lease({ host: "elsewhere", expiresAt: new Date(now - 1).toISOString() }), now, host)).toBe("expired");
    expect(takeOverReason(lease({ pid: 2 ** 22 + 11 }), now, host)).toBe("holder-dead");
    expect(takeOverReason(lease({ processStart: "another-boot:1" }), now, host)).toBe("pid-reused");

    const file = join(tempDir(), "ledger.sqlite");
    const db = await openLedger(file);
    const claim = (holder: string, pid: number) => claimControllerLease(db, { holder, pid, host, processStart: processStart(pid), actor: "t" }, { ttlMs: 60_000, takeOver: (l) => takeOverReason(l, Date.now(), host) });
    expect(await claim("dead", 2 ** 22 + 11)).toMatchObject({ taken: true, reason: "free", previous: null });
    expect(await claim("live", process.pid)).toMatchObject({ taken: true, reason: "holder-dead", previous: { holder: "dead" } });
    expect(await claim("other", process.pid)).toMatchObject({ taken: false, lease: { holder: "live", pid: process.pid, host } });
    await db.destroy();
  });
});

/** Task effects that never finish: the controller stays busy with nothing but its lease. */
function idleEffects(): () => TaskEffects {
  const never = fromPromise(() => new Promise<never>(() => undefined));
  return () => ({ provisionWorktree: never, runAgent: never, commitWork: never, runGate: never, mergeBranch: never, resolveConflict: never }) as unknown as TaskEffects;
}

describe("a running controller and its ledger", () => {
  /** A controller on a fresh control dir, once it holds the lease. */
  async function runningController(): Promise<{ dir: string; file: string; running: Promise<unknown> }> {
    const { dir } = flowFixture();
    const running = runController({ dir, logger, effects: idleEffects(), leaseTiming: { watchMs: 60_000 } });
    const file = join(dir, ".gaffer/ledger.sqlite");
    await waitFor(async () => {
      const db = await openLedger(file);
      const lease = await readControllerLease(db);
      await db.destroy();
      return lease?.pid === process.pid ? true : undefined;
    });
    return { dir, file, running };
  }

  it("stops with LEDGER_MISSING when .gaffer/ is deleted under it", async () => {
    const { dir, file, running } = await runningController();
    rmSync(join(dir, ".gaffer"), { recursive: true, force: true });
    await expect(running).rejects.toMatchObject({ code: "LEDGER_MISSING", message: `${file} was deleted (or .gaffer/ with it) while this controller ran; it stopped rather than run without its ledger. Put the ledger back (from a backup) or start again with \`gaffer up\`; a new ledger has none of the old history` });
  });

  it("stops with LEDGER_MISSING when its ledger is replaced by a new one (where a second `gaffer up` could take the lease)", async () => {
    const { file, running } = await runningController();
    const fresh = join(tempDir(), "ledger.sqlite");
    await (await openLedger(fresh)).destroy();
    for (const suffix of ["", "-wal", "-shm"]) rmSync(`${file}${suffix}`, { force: true });
    renameSync(fresh, file);
    await expect(running).rejects.toMatchObject({ code: "LEDGER_MISSING", message: expect.stringContaining(`${file} was replaced by another file (a new ledger: another \`gaffer up\`, or a restore) while this controller ran; it stopped`) });
    const db = await openLedger(file);
    expect(await readControllerLease(db)).toBeNull();
    await db.destroy();
  });

  it("stops with CONTROLLER_LOCKED when its lease was taken over while it did not renew it", async () => {
    const { dir } = flowFixture();
    const running = runController({ dir, logger, effects: idleEffects(), leaseTiming: { ttlMs: 2000, heartbeatMs: 50 } });
    const db = await openLedger(join(dir, ".gaffer/ledger.sqlite"));
    await waitFor(async () => ((await readControllerLease(db))?.pid === process.pid ? true : undefined));
    await db.updateTable("controller_lease").set({ holder: "someone-else" }).execute();
    await expect(running).rejects.toMatchObject({ code: "CONTROLLER_LOCKED", message: "this controller's lease was taken over by another controller (its heartbeat was not renewed in time: was this process suspended?); it stopped. `gaffer status` shows who runs now" });
    expect((await listEvents(db, { action: "ControllerStopped" })).length).toBe(1);
    await db.destroy();
  });
});
