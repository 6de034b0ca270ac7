/**
 * Controller figures (issue 5). Reconcile latency: a manifest written ->
 * the first effect row in the ledger, over 100 changes (new tasks in a
 * Running stage and `paused` toggles), with raw chokidar write -> event
 * latency on the same directory in the same run as the floor. The real
 * controller runs in-process (runController) with stand-in effects: the
 * figure is the loop (watch, debounce, re-read + validate, machines,
 * ledger), not an agent's work. Idle CPU/RSS: controller-idle.bench.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import SqliteDatabase from "better-sqlite3";
import { watch } from "chokidar";
import pino from "pino";
import { fromPromise } from "xstate";
import type { EffectInput, GateOutcome, MergeOutcome, TaskEffects } from "../../controller/machines/task.machine.js";
import { runController } from "../../controller/reconciler/run-controller.js";
import { LEDGER_FILE } from "../../state/ledger.js";
import { benchControlDir, taskDoc } from "./controller-fixture.js";
import { benchControllerIdle } from "./controller-idle.bench.js";

const CHANGES = 100;
/**
 * Quiet time after the last pass before the next change: longer than a pass
 * (~150-300 ms with 50 tasks on a loaded 2-core box), so each change meets a
 * settled controller, not the tail of the previous change's passes.
 */
const SETTLE_MS = 300;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms)); // for poll loops

/** Provisioning succeeds at once; the agent works until the task is paused or the controller stops. */
function standInEffects(): TaskEffects {
  const never = <T>() => fromPromise<T, EffectInput>(({ signal }) => new Promise<T>((_, reject) => signal.addEventListener("abort", () => reject(new Error("stopped")), { once: true })));
  return {
    provisionWorktree: fromPromise<{ path: string; branch: string }, EffectInput>(async ({ input }) => ({ path: `/w/${input.task}`, branch: `b/${input.task}` })),
    runAgent: never<{ summary: string }>(),
    commitWork: never<{ sha: string | null }>(),
    runGate: never<GateOutcome>(),
    mergeBranch: never<MergeOutcome>(),
    resolveConflict: never<{ summary: string }>(),
  };
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const round = (n: number): number => Math.round(n * 10) / 10;

/** Raw chokidar: write a new file, time until its `add` event (the floor with nothing else running). */
async function chokidarAlone(dir: string, count: number): Promise<number[]> {
  const seen = new Map<string, number>();
  const watcher = watch(dir, { ignoreInitial: true }).on("add", (p) => seen.set(p, performance.now()));
  await new Promise<void>((r) => watcher.once("ready", () => r()));
  const out: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const file = join(dir, `floor-${i}.txt`);
      const t0 = performance.now();
      writeFileSync(file, `${i}\n`);
      while (!seen.has(file)) await sleep(1); // poll for the watcher event
      out.push(seen.get(file)! - t0);
      rmSync(file);
    }
  } finally {
    await watcher.close();
  }
  return out;
}

interface Sample {
  readonly kind: "add" | "toggle";
  readonly chokidarMs: number;
  readonly manifestAppliedMs: number;
  readonly taskPhaseMs: number;
}

type Row = { id: number; action: string; subject: string; at: string };

/** Waits for the first TaskPhaseChanged of `task` (and the ManifestApplied before it) after event id `after`. */
async function effectRows(reader: SqliteDatabase.Database, after: number, task: string): Promise<{ applied: Row; phase: Row }> {
  const query = reader.prepare<[number, string], Row>("select id, action, subject, at from events where id > ? and ((action = 'TaskPhaseChanged' and subject = ?) or action = 'ManifestApplied') order by id");
  const deadline = Date.now() + 10_000;
  for (;;) {
    const rows = query.all(after, `task/${task}`);
    const phase = rows.find((r) => r.action === "TaskPhaseChanged");
    const applied = rows.find((r) => r.action === "ManifestApplied");
    if (phase !== undefined && applied !== undefined) return { applied, phase };
    if (Date.now() > deadline) throw new Error(`bench: no effect for ${task} within 10 s (rows: ${JSON.stringify(rows)})`);
    await sleep(2); // poll
  }
}

async function measureChanges(dir: string, lastPass: () => number): Promise<Sample[]> {
  const manifests = join(dir, "manifests");
  const floor = new Map<string, number>();
  const watcher = watch(manifests, { ignoreInitial: true }).on("all", (_e, p) => void (floor.has(p) || floor.set(p, performance.now())));
  await new Promise<void>((r) => watcher.once("ready", () => r()));
  const reader = new SqliteDatabase(join(dir, LEDGER_FILE), { readonly: true, fileMustExist: true });
  const samples: Sample[] = [];
  let paused = false;
  try {
    for (let i = 0; i < CHANGES; i++) {
      const kind = i % 2 === 0 ? "add" : "toggle";
      const task = kind === "add" ? `add-${String(i).padStart(3, "0")}` : "toggle";
      const file = join(manifests, `${task}.yaml`);
      if (kind === "toggle") paused = !paused;
      const after = (reader.prepare("select coalesce(max(id), 0) as id from events").get() as { id: number }).id;
      floor.delete(file);
      const t0 = Date.now();
      const p0 = performance.now();
      writeFileSync(file, taskDoc(task, "done bench", kind === "toggle" && paused));
      const { applied, phase } = await effectRows(reader, after, task);
      const seen = performance.now();
      while (!floor.has(file)) await sleep(1); // poll
      while (performance.now() - Math.max(lastPass(), seen) < SETTLE_MS) await sleep(10); // poll until the controller settled
      samples.push({ kind, chokidarMs: floor.get(file)! - p0, manifestAppliedMs: Date.parse(applied.at) - t0, taskPhaseMs: Date.parse(phase.at) - t0 });
    }
  } finally {
    reader.close();
    await watcher.close();
  }
  return samples;
}

/** Reconcile latency figures (ms): p50/p99 of manifest write -> first task effect row, and the chokidar floors. */
export async function benchReconcileLatency(): Promise<Record<string, number>> {
  const root = mkdtempSync(join(tmpdir(), "gaffer-bench-ctl-"));
  const { dir } = benchControlDir(root, { capacity: 4, tasks: [] });
  writeFileSync(join(dir, "manifests/toggle.yaml"), taskDoc("toggle", "done bench"));
  const alone = await chokidarAlone(join(dir, "manifests"), CHANGES);
  let stop!: () => void;
  let lastPass = performance.now();
  const logger = pino({ level: "info" }, pino.destination({ dest: join(root, "controller.log"), sync: false }));
  const running = runController({ dir, logger, effects: standInEffects, stopSignal: new Promise<void>((r) => (stop = r)), onPass: () => void (lastPass = performance.now()) });
  try {
    await waitForWorking(dir);
    const samples = await measureChanges(dir, () => lastPass);
    const of = (pick: (s: Sample) => number, kind?: Sample["kind"]) => samples.filter((s) => kind === undefined || s.kind === kind).map(pick);
    const phase = of((s) => s.taskPhaseMs);
    return {
      changes: samples.length,
      reconcileP50Ms: round(percentile(phase, 50)),
      reconcileP99Ms: round(percentile(phase, 99)),
      reconcileMaxMs: round(Math.max(...phase)),
      reconcileNewTaskP50Ms: round(percentile(of((s) => s.taskPhaseMs, "add"), 50)),
      reconcilePauseToggleP50Ms: round(percentile(of((s) => s.taskPhaseMs, "toggle"), 50)),
      manifestAppliedP50Ms: round(percentile(of((s) => s.manifestAppliedMs), 50)),
      manifestAppliedP99Ms: round(percentile(of((s) => s.manifestAppliedMs), 99)),
      chokidarFloorP50Ms: round(percentile(of((s) => s.chokidarMs), 50)),
      chokidarFloorP99Ms: round(percentile(of((s) => s.chokidarMs), 99)),
      chokidarAloneP50Ms: round(percentile(alone, 50)),
      chokidarAloneP99Ms: round(percentile(alone, 99)),
    };
  } finally {
    stop();
    await running;
    logger.flush();
    rmSync(root, { recursive: true, force: true });
  }
}

async function waitForWorking(dir: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const reader = new SqliteDatabase(join(dir, LEDGER_FILE), { readonly: true, fileMustExist: true });
      const row = reader.prepare("select phase from tasks where name = 'toggle'").get() as { phase: string } | undefined;
      reader.close();
      if (row?.phase === "Working") return;
    } catch {
      // the ledger is not created yet
    }
    if (Date.now() > deadline) throw new Error("bench: the toggle task never reached Working");
    await sleep(20); // poll
  }
}

/** Reconcile latency, then idle CPU/RSS with 20 sessions (child process). */
export async function benchController(): Promise<Record<string, number>> {
  return { ...(await benchReconcileLatency()), ...(await benchControllerIdle()) };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(process.argv[2] === "idle" ? await benchControllerIdle() : await benchReconcileLatency(), null, 2));
}
