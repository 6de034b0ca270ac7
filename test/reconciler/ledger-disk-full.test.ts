import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import pino from "pino";
import { expect, test } from "vitest";
import { runController } from "../../controller/reconciler/run-controller.js";
import { openLedger } from "../../state/ledger.js";
import { controlDir } from "../helpers/control-dir.js";
import { instantEffects } from "../helpers/instant-effects.js";
import { fillDisk, mountTmpfs } from "../helpers/mounts.js";
import { waitFor } from "../helpers/temp.js";

async function taskPhase(dir: string, task: string): Promise<string | undefined> {
  const db = await openLedger(join(dir, ".gaffer", "ledger.sqlite"));
  try {
    return (await db.selectFrom("tasks").select("phase").where("name", "=", task).executeTakeFirst())?.phase;
  } finally {
    await db.destroy();
  }
}

test("a full disk under a running controller: named in the log once, retried with backoff, recovered when space is freed", async () => {
  const fixture = controlDir({ tasks: [{ name: "first" }] });
  const { dir } = fixture;
  mkdirSync(join(dir, ".gaffer"));
  mountTmpfs(join(dir, ".gaffer"), "2m");
  const lines: { level: number; msg: string; code?: string }[] = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) });
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const running = runController({ dir, logger, effects: instantEffects, stopSignal: stopped, resyncMs: 60_000 });
  try {
    await waitFor(async () => ((await taskPhase(dir, "first")) === "Merged" ? true : undefined), { timeoutMs: 30_000, what: "first Merged" });
    const filler = fillDisk(join(dir, ".gaffer", "filler"));
    fixture.rewrite({ tasks: [{ name: "first" }, { name: "second", prompt: "x".repeat(4000) }] });
    const fault = await waitFor(() => lines.find((l) => l.code === "LEDGER_DISK_FULL" && l.level === 50), { timeoutMs: 30_000, what: "LEDGER_DISK_FULL logged" });
    expect(fault.msg).toMatch(/^LEDGER_DISK_FULL: the disk holding \S+ledger\.sqlite is full \(SQLITE_\w+: .*\); free space on that filesystem, then retry .*; retrying with backoff$/);
    // Backoff retries (debug), not a flood of errors.
    await waitFor(() => (lines.filter((l) => l.code === "LEDGER_DISK_FULL" && l.level === 20).length >= 2 ? true : undefined), { timeoutMs: 30_000, what: "two retries" });
    rmSync(filler);
    await waitFor(() => lines.find((l) => /^LEDGER_DISK_FULL cleared after \d+ failed pass\(es\); the controller goes on$/.test(l.msg)), { timeoutMs: 30_000, what: "recovery logged" });
    await waitFor(async () => ((await taskPhase(dir, "second")) === "Merged" ? true : undefined), { timeoutMs: 30_000, what: "second Merged after recovery" });
  } finally {
    stop();
    await running;
  }
  expect(lines.filter((l) => l.level >= 50 && l.code === "LEDGER_DISK_FULL").length).toBe(1);
  expect(lines.some((l) => /cannot rollback/.test(JSON.stringify(l)))).toBe(false);
}, 120_000);
