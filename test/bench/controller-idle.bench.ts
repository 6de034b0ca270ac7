/**
 * Controller CPU and RSS while idle with 50 sessions: `gaffer up` as a child
 * process with the real effects; 50 tasks whose scripted agents ask a
 * question and wait for a person (`waiting`), so every session is open and
 * watched but nothing moves. Then IDLE_MS of wall time is measured from
 * /proc: the controller's own CPU, its reaped children's (tmux/git clients
 * it spawns) and the tmux server's, from when the ledger has been still for
 * 3 s (start-up's tail over). Then the same fleet under
 * `gaffer up --poll` (the fallback without control mode), same window.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import SqliteDatabase from "better-sqlite3";
import { packagePath } from "../../controller/paths.js";
import { LEDGER_FILE } from "../../state/ledger.js";
import { benchControlDir, taskDoc } from "./controller-fixture.js";

/** 50 by default (the fleet); GAFFER_BENCH_IDLE_SESSIONS changes it. */
const SESSIONS = Number(process.env.GAFFER_BENCH_IDLE_SESSIONS ?? 50);
/** The sample window: 30 s (the figure); GAFFER_BENCH_IDLE_MS changes it. */
const IDLE_MS = Number(process.env.GAFFER_BENCH_IDLE_MS ?? 30_000);
const CLK_TCK = 100;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms)); // for poll loops and the idle sample window

interface CpuTicks {
  readonly self: number;
  readonly children: number;
}

/** utime+stime and cutime+cstime of a process, in clock ticks (/proc/PID/stat fields 14-17). */
function cpuTicks(pid: number): CpuTicks {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const n = (i: number): number => Number(fields[i - 3]);
  return { self: n(14) + n(15), children: n(16) + n(17) };
}

function statusKb(pid: number, key: string): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith(`${key}:`));
  return Number(line?.split(/\s+/)[1] ?? NaN);
}

async function waitingSessions(dir: string): Promise<number> {
  try {
    const reader = new SqliteDatabase(join(dir, LEDGER_FILE), { readonly: true, fileMustExist: true });
    try {
      return (reader.prepare("select count(*) as n from sessions where status = 'waiting' and state not in ('Closed', 'Failed')").get() as { n: number }).n;
    } finally {
      reader.close();
    }
  } catch {
    return 0;
  }
}

/** What the sessions and tasks look like (for a failure message). */
function sessionStates(dir: string): string {
  const reader = new SqliteDatabase(join(dir, LEDGER_FILE), { readonly: true, fileMustExist: true });
  try {
    const sessions = reader.prepare("select task, state, status from sessions order by task").all();
    const tasks = reader.prepare("select name, phase from tasks where phase != 'Working'").all();
    return JSON.stringify({ sessions, tasks });
  } finally {
    reader.close();
  }
}

async function untilWaiting(dir: string, child: { exitCode: number | null }): Promise<number> {
  const started = performance.now();
  for (;;) {
    if ((await waitingSessions(dir)) >= SESSIONS) return performance.now() - started;
    if (child.exitCode !== null) throw new Error(`bench: gaffer up exited with ${child.exitCode}`);
    if (performance.now() - started > 240_000) throw new Error(`bench: only ${await waitingSessions(dir)} of ${SESSIONS} sessions waiting after 240 s: ${sessionStates(dir)}`);
    await sleep(100); // poll until every session waits
  }
}

const pct = (ticks: number, wallMs: number): number => Math.round((ticks / CLK_TCK / (wallMs / 1000)) * 1000) / 10;

interface IdleSample {
  readonly wallMs: number;
  readonly selfPct: number;
  readonly childrenPct: number;
  readonly tmuxPct: number;
  readonly rssMb: number;
  readonly peakRssMb: number;
}

/** CPU of the controller, its reaped children and the tmux server over IDLE_MS; every session must still wait after it. */
async function sample(pid: number, server: number, dir: string): Promise<IdleSample> {
  const [c0, s0, t0] = [cpuTicks(pid), cpuTicks(server), performance.now()];
  await sleep(IDLE_MS); // the idle sample itself: measured over this window (its deadline)
  const [c1, s1, wallMs] = [cpuTicks(pid), cpuTicks(server), performance.now() - t0];
  const still = await waitingSessions(dir);
  if (still < SESSIONS) throw new Error(`bench: ${still} of ${SESSIONS} sessions still waiting after the idle window`);
  const mb = (key: string): number => Math.round(statusKb(pid, key) / 102.4) / 10;
  return { wallMs, selfPct: pct(c1.self - c0.self, wallMs), childrenPct: pct(c1.children - c0.children, wallMs), tmuxPct: pct(s1.self - s0.self, wallMs), rssMb: mb("VmRSS"), peakRssMb: mb("VmHWM") };
}

/** Until the ledger holds `count` ControllerStarted events (a restarted controller is up). */
async function untilStarted(dir: string, count: number, child: { exitCode: number | null }): Promise<void> {
  const started = performance.now();
  for (;;) {
    const reader = new SqliteDatabase(join(dir, LEDGER_FILE), { readonly: true, fileMustExist: true });
    const n = (reader.prepare("select count(*) as n from events where action = 'ControllerStarted'").get() as { n: number }).n;
    reader.close();
    if (n >= count) return;
    if (child.exitCode !== null) throw new Error(`bench: gaffer up --poll exited with ${child.exitCode}`);
    if (performance.now() - started > 60_000) throw new Error("bench: gaffer up --poll did not start within 60 s");
    await sleep(100); // poll until the controller has started
  }
}

/** Until no event was appended for QUIET_MS (start-up's tail is over), at most 60 s. */
async function untilLedgerQuiet(dir: string): Promise<void> {
  const QUIET_MS = 3000;
  const started = performance.now();
  let last = -1;
  let since = performance.now();
  for (;;) {
    const reader = new SqliteDatabase(join(dir, LEDGER_FILE), { readonly: true, fileMustExist: true });
    const top = (reader.prepare("select coalesce(max(id), 0) as id from events").get() as { id: number }).id;
    reader.close();
    if (top !== last) [last, since] = [top, performance.now()];
    if (performance.now() - since >= QUIET_MS) return;
    if (performance.now() - started > 60_000) throw new Error("bench: the ledger kept changing for 60 s after every session waited");
    await sleep(100); // poll until the ledger is still
  }
}

async function stop(child: ReturnType<typeof spawn>): Promise<void> {
  child.kill("SIGTERM");
  await new Promise<void>((r) => (child.exitCode !== null ? r() : child.once("exit", () => r())));
}

/** Idle figures: CPU% (of one core) and RSS of `gaffer up` watching waiting agent sessions, by notification and polled. */
export async function benchControllerIdle(): Promise<Record<string, number>> {
  const root = mkdtempSync(join(tmpdir(), "gaffer-bench-idle-"));
  const tasks = Array.from({ length: SESSIONS }, (_, i) => taskDoc(`idle-${i}`, "ask Shall I go on?"));
  const { dir, socket } = benchControlDir(root, { capacity: SESSIONS, tasks });
  const log = openSync(join(root, "controller.log"), "a");
  const env = { ...process.env, TMUX: "", GAFFER_LOG_LEVEL: "info" };
  // GAFFER_BENCH_CPU_PROF=DIR writes the controller's V8 CPU profile there (read its idle window's samples).
  const profile = process.env.GAFFER_BENCH_CPU_PROF === undefined ? [] : ["--cpu-prof", "--cpu-prof-dir", process.env.GAFFER_BENCH_CPU_PROF];
  let child = spawn(process.execPath, [...profile, packagePath("controller", "gaffer.js"), "up", "--dir", dir], { env, stdio: ["ignore", log, log] });
  try {
    const startMs = await untilWaiting(dir, child);
    // A session shows its question before its delivery's last steps are ledgered: the fleet is idle once the ledger is still.
    await untilLedgerQuiet(dir);
    const server = Number((await execa("tmux", ["-L", socket, "display-message", "-p", "#{pid}"], { env })).stdout.trim());
    const notified = await sample(child.pid!, server, dir);
    // The same fleet under `gaffer up --poll` (the fallback when control mode is unavailable): a new
    // controller adopts the 50 sessions, then the same window.
    await stop(child);
    child = spawn(process.execPath, [packagePath("controller", "gaffer.js"), "up", "--poll", "--dir", dir], { env, stdio: ["ignore", log, log] });
    await untilStarted(dir, 2, child);
    await untilLedgerQuiet(dir); // adoption's first looks at every session
    const polled = await sample(child.pid!, server, dir);
    return {
      sessions: SESSIONS,
      startToAllWaitingMs: Math.round(startMs),
      idleWallMs: Math.round(notified.wallMs),
      idleCpuPct: notified.selfPct,
      idleChildrenCpuPct: notified.childrenPct,
      idleTmuxServerCpuPct: notified.tmuxPct,
      idleRssMb: notified.rssMb,
      peakRssMb: notified.peakRssMb,
      idlePollingCpuPct: polled.selfPct,
      idlePollingChildrenCpuPct: polled.childrenPct,
      idlePollingTmuxServerCpuPct: polled.tmuxPct,
      idlePollingRssMb: polled.rssMb,
    };
  } finally {
    await stop(child);
    await execa("tmux", ["-L", socket, "kill-server"], { env, reject: false });
    rmSync(join(`/tmp/tmux-${process.getuid?.() ?? 0}`, socket), { force: true });
    if (process.env.GAFFER_BENCH_KEEP === undefined) rmSync(root, { recursive: true, force: true });
    else process.stderr.write(`bench: kept ${root}\n`);
  }
}
