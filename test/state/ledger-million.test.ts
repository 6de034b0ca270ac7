/**
 * A ledger of 1,000,000 generated events (the bench's mix: mostly screen
 * status changes, over four weeks): `gaffer status` answers within a
 * generous bound beyond the CLI's own start-up, and `gaffer report --json`
 * within its bound with every session's figures (the tight figures belong to
 * `npm run bench ledger`). The ledger is generated at the schema before the
 * report's rollups and then opened, so migration 0019's backfill runs too.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { LEDGER_FILE, openLedger } from "../../state/ledger.js";
import { MIGRATIONS } from "../../state/migrations/index.js";
import { benchControlDir } from "../bench/controller-fixture.js";
import { growLedger } from "../bench/ledger-scale.js";
import { runGaffer } from "../helpers/cli.js";

/** Generous: the goal is 200 ms beyond start-up (status) and 2 s (report) on a quiet machine; tests share 2 cores. */
const STATUS_BEYOND_STARTUP_MS = 4000;
const REPORT_MS = 30_000;

let root = "";
let dir = "";
let sessions = 0;

async function timed(args: readonly string[]): Promise<{ ms: number; stdout: string }> {
  const started = performance.now();
  const run = await runGaffer(args);
  expect(run.stderr).toBe("");
  expect(run.exitCode).toBe(0);
  return { ms: performance.now() - started, stdout: run.stdout };
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "gaffer-ledger-million-"));
  ({ dir } = benchControlDir(root, { capacity: 1, tasks: [] }));
  const file = join(dir, LEDGER_FILE);
  await (await openLedger(file, { migrations: Object.fromEntries(Object.entries(MIGRATIONS).filter(([name]) => name < "0019")) })).destroy();
  sessions = growLedger(file, 1_000_000);
  await (await openLedger(file)).destroy();
}, 240_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));


describe("a ledger of a million events", () => {
  test("status answers from current-state tables: within a generous bound beyond the CLI's start-up", async () => {
    const startup = Math.min((await timed(["--version"])).ms, (await timed(["--version"])).ms);
    const status = await timed(["status", "--json", "--dir", dir]);
    const again = await timed(["status", "--json", "--dir", dir]);
    const shown = JSON.parse(status.stdout) as { stages: { name: string }[]; tasks: unknown[] };
    expect(shown.stages.map((s) => s.name)).toEqual(["build"]);
    expect(shown.tasks).toEqual([]);
    console.log(`1M events: --version ${Math.round(startup)} ms, status ${Math.round(status.ms)} / ${Math.round(again.ms)} ms`);
    expect(Math.min(status.ms, again.ms) - startup).toBeLessThan(STATUS_BEYOND_STARTUP_MS);
  }, 120_000);

  test("log --since pages from the first event of the span (found along the time index), never walking the older million", async () => {
    const db = await openLedger(join(dir, LEDGER_FILE));
    const since = (await db.selectFrom("events").select("at").orderBy("id", "desc").offset(1200).limit(1).executeTakeFirstOrThrow()).at;
    const expected = (await db.selectFrom("events").select("id").where("at", ">=", since).orderBy("id").execute()).map((r) => r.id);
    await db.destroy();
    const startup = (await timed(["--version"])).ms;
    const log = await timed(["log", "--since", since, "--json", "--dir", dir]);
    expect((JSON.parse(log.stdout) as { id: number }[]).map((e) => e.id)).toEqual(expected);
    const hour = await timed(["log", "--since", "1h", "--dir", dir]);
    console.log(`1M events: --version ${Math.round(startup)} ms, log --since (${expected.length} events) ${Math.round(log.ms)} ms, log --since 1h ${Math.round(hour.ms)} ms`);
    expect(hour.ms - startup).toBeLessThan(STATUS_BEYOND_STARTUP_MS);
  }, 120_000);

  test("report --json from the rollups: every session's exact figures within a generous bound", async () => {
    const report = await timed(["report", "--json", "--dir", dir]);
    console.log(`1M events: report --json ${Math.round(report.ms)} ms for ${sessions} sessions`);
    const parsed = JSON.parse(report.stdout) as { sessions: { lifetimeMs: number; startingMs: number; busyMs: number; idleMs: number; otherMs: number }[] };
    expect(parsed.sessions).toHaveLength(sessions);
    // growLedger's session: 7 events 2 s apart, 30 status changes alternating running/idle every 2 s, the last until the close 13 events later.
    expect(parsed.sessions[0]).toMatchObject({ lifetimeMs: 98_000, startingMs: 14_000, busyMs: 54_000, idleMs: 30_000, otherMs: 0 });
    expect(parsed.sessions.at(-1)!.lifetimeMs).toBeGreaterThan(0);
    expect(report.ms).toBeLessThan(REPORT_MS);
  }, 120_000);
});
