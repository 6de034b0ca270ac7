/**
 * Event-driven runtime latencies, with `gaffer up` as a child process:
 * - agent output -> SessionStatusChanged in the ledger (a person types a
 *   command into an idle scripted agent; the ledger row's time minus the
 *   keystroke's), against tmux's own floor: the first `%output` line that a
 *   control client of this bench, attached to the same session, receives.
 * - approval commit in the control repo -> stage no longer AwaitingApproval.
 * p50 and p99 in ms; every output round's figures go to stderr (slowest first).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { execa } from "execa";
import SqliteDatabase from "better-sqlite3";
import { packagePath } from "../../controller/paths.js";
import { LEDGER_FILE } from "../../state/ledger.js";
import { appendStageApproval, readStageStatus } from "../../controller/status/status-store.js";
import { benchControlDir, taskDoc } from "./controller-fixture.js";

const SESSIONS = 4;
/** Enough rounds that p99 is not simply the slowest one (it is the 2nd slowest of 100). */
const ROUNDS = 100;
const COMMITS = 8;
const APPROVER = "alice@example.com";
// GAFFER_BENCH_LOG_LEVEL=trace (with GAFFER_BENCH_KEEP=1) keeps every notification and look in controller.log.
const env = { ...process.env, TMUX: "", GAFFER_LOG_LEVEL: process.env.GAFFER_BENCH_LOG_LEVEL ?? "warn" };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms)); // for poll loops

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! * 10) / 10;
}

/**
 * Waits for observable state: `probe` answers once the ledger (or a file)
 * shows it. The figures come from the ledger's own timestamps, so the poll
 * interval never adds to them.
 */
async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await sleep(5); // the poll interval (no notification reaches the bench)
  }
}

function gafferUp(dir: string, root: string): ChildProcess {
  const log = openSync(join(root, "controller.log"), "a");
  return spawn(process.execPath, [packagePath("controller", "gaffer.js"), "up", "--dir", dir], { env, stdio: ["ignore", log, log] });
}

async function stopGaffer(child: ChildProcess): Promise<void> {
  child.kill("SIGTERM");
  await new Promise<void>((r) => (child.exitCode !== null ? r() : child.once("exit", () => r())));
}

/** A control-mode client of the bench's own on a session: when its next `%output` line arrives (the floor). */
function floorClient(socket: string, session: string): { next(): Promise<number>; close(): void } {
  const child = spawn("tmux", ["-L", socket, "-C", "attach-session", "-t", `=${session}`], { env, stdio: ["pipe", "pipe", "ignore"] });
  let waiter: ((at: number) => void) | null = null;
  createInterface({ input: child.stdout! }).on("line", (line) => {
    if (line.startsWith("%output ") && waiter !== null) {
      waiter(Date.now());
      waiter = null;
    }
  });
  return { next: () => new Promise((resolve) => (waiter = resolve)), close: () => child.kill() };
}

/** Output -> status: a person types `sleep 200` into an idle agent; time until the controller records `running`. */
async function outputToStatus(): Promise<Record<string, number>> {
  const root = mkdtempSync(join(tmpdir(), "gaffer-bench-runtime-"));
  const names = Array.from({ length: SESSIONS }, (_, i) => `typed-${i}`);
  const { dir, socket } = benchControlDir(root, { capacity: SESSIONS, approval: "required", tasks: names.map((n) => taskDoc(n, "say nothing")) });
  const gaffer = (...args: string[]) => execa(process.execPath, [packagePath("controller", "gaffer.js"), ...args, "--dir", dir], { env });
  const ids: string[] = [];
  for (const name of names) {
    await gaffer("worktree", "create", "--task", name, "--override", "bench");
    ids.push((JSON.parse((await gaffer("session", "create", "--task", name, "--agent", "scripted", "--override", "bench", "--json")).stdout) as { id: string }).id);
  }
  const child = gafferUp(dir, root);
  const ledger = new SqliteDatabase(join(dir, LEDGER_FILE), { readonly: true });
  const floors = ids.map((id) => floorClient(socket, id));
  const statusOf = ledger.prepare("select status from sessions where id = ?");
  const lastChange = ledger.prepare("select id, at from events where subject = ? and action = 'SessionStatusChanged' and json_extract(payload, '$.to') = ? and actor = 'controller' and id > ? order by id limit 1");
  try {
    // The controller follows the adopted sessions once its control client is attached and has linked their windows.
    for (;;) {
      const linked = (await execa("tmux", ["-L", socket, "list-windows", "-t", "=gaffer-control", "-F", "#{window_name}"], { env, reject: false })).stdout.split("\n");
      if (linked.length > SESSIONS) break;
      await sleep(20); // poll until every session's window is linked
    }
    const gafferMs: number[] = [];
    const floorMs: number[] = [];
    const typedAt: number[] = [];
    const seen = ids.map(() => 0);
    for (let round = 0; round < ROUNDS; round++) {
      const i = round % SESSIONS;
      const id = ids[i]!;
      // Recorded idle (by the controller, or by `session create`): then type, so the change to running is one to record.
      await until(`${id} idle`, () => ((statusOf.get(id) as { status: string } | undefined)?.status === "idle" ? true : undefined));
      const floor = floors[i]!.next();
      const t0 = Date.now();
      typedAt.push(t0);
      await execa("tmux", ["-L", socket, "send-keys", "-t", `=${id}:`, "sleep 200", "Enter"], { env });
      const row = await until(`${id} running`, () => lastChange.get(`session/${id}`, "running", seen[i]) as { id: number; at: string } | undefined);
      seen[i] = row.id;
      gafferMs.push(Date.parse(row.at) - t0);
      floorMs.push((await floor) - t0);
    }
    const slowest = gafferMs.map((ms, round) => ({ round, session: ids[round % SESSIONS], typedAt: typedAt[round], ms, floorMs: floorMs[round]! })).sort((a, b) => b.ms - a.ms);
    process.stderr.write(`bench: output -> status, slowest rounds: ${JSON.stringify(slowest.slice(0, 10))}\n`);
    return {
      outputToStatusP50Ms: percentile(gafferMs, 50),
      outputToStatusP99Ms: percentile(gafferMs, 99),
      tmuxOutputFloorP50Ms: percentile(floorMs, 50),
      tmuxOutputFloorP99Ms: percentile(floorMs, 99),
      outputToStatusRounds: ROUNDS,
    };
  } finally {
    for (const f of floors) f.close();
    ledger.close();
    await stopGaffer(child);
    await execa("tmux", ["-L", socket, "kill-server"], { env, reject: false });
    if (process.env.GAFFER_BENCH_KEEP === undefined) rmSync(root, { recursive: true, force: true });
    else process.stderr.write(`bench: kept ${root}\n`);
  }
}

/** Approval commit -> stage started, over COMMITS stages that wait only for their approval. */
async function commitToRunning(): Promise<Record<string, number>> {
  const root = mkdtempSync(join(tmpdir(), "gaffer-bench-commit-"));
  const stages = Array.from({ length: COMMITS }, (_, i) => `x${i}`);
  const extraStages = stages.map((s) => `    - name: ${s}\n      approval: required\n      roles:\n        - name: builder\n          allowedAgents: [scripted]\n      gate:\n        commands: [["true"]]\n`).join("");
  const { dir, socket } = benchControlDir(root, { capacity: 1, tasks: [], approval: "required", extraStages });
  const child = gafferUp(dir, root);
  let ledger: SqliteDatabase.Database | null = null;
  const phase = (stage: string): string | undefined => {
    try {
      ledger ??= new SqliteDatabase(join(dir, LEDGER_FILE), { readonly: true, fileMustExist: true });
      return (ledger.prepare("select phase from stages where name = ?").get(stage) as { phase: string } | undefined)?.phase;
    } catch {
      return undefined; // the controller has not created or migrated it yet
    }
  };
  try {
    const latencies: number[] = [];
    for (const stage of stages) {
      await until(`${stage} awaiting approval`, () => (phase(stage) === "AwaitingApproval" ? true : undefined));
      // The status file is written after the ledger row.
      const request = await until(`${stage} approval request`, async () => (await readStageStatus(dir, stage)).status?.approvalRequest);
      await appendStageApproval(dir, stage, { requestId: request.id, decision: "approved", comment: null });
      await until(`${stage} uncommitted approval seen`, () => ((ledger!.prepare("select count(*) as n from events where subject = ? and action = 'ApprovalRejected'").get(`stage/${stage}`) as { n: number }).n > 0 ? true : undefined));
      await execa("git", ["add", "--", `status/stages/${stage}.yaml`], { cwd: dir });
      const t0 = Date.now();
      await execa("git", ["-c", `user.email=${APPROVER}`, "-c", "user.name=Alice", "commit", "-q", "-m", `chore: approve ${stage}`, "--", `status/stages/${stage}.yaml`], { cwd: dir });
      const started = await until(`${stage} started`, () => ledger!.prepare("select at from events where subject = ? and action = 'StagePhaseChanged' and json_extract(payload, '$.from') = 'AwaitingApproval' order by id limit 1").get(`stage/${stage}`) as { at: string } | undefined);
      latencies.push(Date.parse(started.at) - t0);
    }
    return { commitToRunningP50Ms: percentile(latencies, 50), commitToRunningP99Ms: percentile(latencies, 99), commitToRunningRounds: COMMITS };
  } finally {
    (ledger as SqliteDatabase.Database | null)?.close();
    await stopGaffer(child);
    await execa("tmux", ["-L", socket, "kill-server"], { env, reject: false });
    rmSync(root, { recursive: true, force: true });
  }
}

/** The runtime section of `npm run bench`. */
export async function benchRuntime(): Promise<Record<string, number>> {
  return { ...(await outputToStatus()), ...(await commitToRunning()) };
}
