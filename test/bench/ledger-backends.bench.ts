/**
 * The ledger's two backends side by side (issue: a shared PostgreSQL
 * ledger): appends per second (one event per commit, as the controller
 * writes them) and `gaffer status` wall time (median of 5 runs of the real
 * CLI) on the same control dir with 5,000 events. PostgreSQL is a private
 * cluster on 127.0.0.1 (test/helpers/postgres-cluster.ts), fsync off as in
 * the tests: the figures compare the code paths, not durable disks.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { packagePath } from "../../controller/paths.js";
import { appendEvent } from "../../state/events.repository.js";
import { LEDGER_FILE } from "../../state/ledger.js";
import startCluster, { PG_URL_ENV } from "../helpers/postgres-cluster.js";
import { openLocation } from "../helpers/ledger-backends.js";
import { benchControlDir } from "./controller-fixture.js";

const APPENDS = 2000;
const PRELOAD = 3000;
const STATUS_RUNS = 5;

async function appendsPerSecond(location: string): Promise<number> {
  const db = await openLocation(location);
  try {
    for (let i = 0; i < PRELOAD; i += 500) {
      await db.insertInto("events").values(Array.from({ length: 500 }, (_, k) => ({ at: new Date().toISOString(), actor: "bench", action: "Preload", subject: `task/t${(i + k) % 50}`, payload: "{}", commit_sha: null }))).execute();
    }
    const started = performance.now();
    for (let i = 0; i < APPENDS; i++) await appendEvent(db, { actor: "bench", action: "SessionStatusChanged", subject: `session/s${i % 20}`, payload: { from: "idle", to: "running" } });
    return Math.round(APPENDS / ((performance.now() - started) / 1000));
  } finally {
    await db.destroy();
  }
}

async function statusMedianMs(dir: string, env: Record<string, string>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < STATUS_RUNS; i++) {
    const started = performance.now();
    const run = await execa(process.execPath, [packagePath("controller", "gaffer.js"), "status", "--dir", dir], { reject: false, env: { ...process.env, TMUX: "", ...env } });
    if (run.exitCode !== 0) throw new Error(`bench: gaffer status failed: ${run.stderr.slice(-500)}`);
    times.push(performance.now() - started);
  }
  return Math.round(times.sort((a, b) => a - b)[Math.floor(STATUS_RUNS / 2)]!);
}

/** Appends/s and status latency per backend, and the PostgreSQL/SQLite ratios. */
export async function benchLedgerBackends(): Promise<Record<string, number>> {
  const stop = await startCluster(undefined as never);
  const root = mkdtempSync(join(tmpdir(), "gaffer-bench-backends-"));
  try {
    const { dir } = benchControlDir(root, { capacity: 1, tasks: [] });
    const pgUrl = new URL(process.env[PG_URL_ENV]!);
    const admin = await execa("psql", [pgUrl.toString(), "-c", "create database gaffer_bench"], { reject: false });
    if (admin.exitCode !== 0) throw new Error(`bench: create database failed: ${admin.stderr}`);
    pgUrl.pathname = "/gaffer_bench";
    const sqliteAppends = await appendsPerSecond(join(dir, LEDGER_FILE));
    const postgresAppends = await appendsPerSecond(pgUrl.toString());
    const sqliteStatus = await statusMedianMs(dir, {});
    const postgresStatus = await statusMedianMs(dir, { GAFFER_LEDGER_URL: pgUrl.toString() });
    return {
      sqliteAppendsPerSecond: sqliteAppends,
      postgresAppendsPerSecond: postgresAppends,
      appendsRatio: Math.round((postgresAppends / sqliteAppends) * 100) / 100,
      sqliteStatusMs: sqliteStatus,
      postgresStatusMs: postgresStatus,
      statusRatio: Math.round((postgresStatus / sqliteStatus) * 100) / 100,
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
    stop();
  }
}
