import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { execa } from "execa";
import pino from "pino";
import { DemoFailedError } from "../errors.js";
import { commitApprovalDecision } from "../governance/approval-commit.js";
import { runController } from "../reconciler/run-controller.js";
import { buildTaskEffects } from "../reconciler/task-effects.js";
import { LEDGER_FILE, openLedger, type Ledger } from "../../state/ledger.js";
import { DEMO_APPROVER, writeDemoControl, writeDemoTarget } from "./demo-repos.js";
import { systemClock } from "../adapters/clock.js";
import { TmuxAdapter } from "../adapters/tmux.js";
import { chokidarWatcher } from "../adapters/watcher.js";

export interface DemoOptions {
  /** Where to put the control and target repos (default: a new temp dir). */
  readonly keep?: string;
  /** Progress lines. */
  readonly out: (line: string) => void;
  /** Give up after this long (default 120 s). */
  readonly timeoutMs?: number;
}

export interface DemoResult {
  readonly root: string;
  readonly control: string;
  readonly target: string;
  readonly socket: string;
  readonly elapsedMs: number;
}

async function preflight(): Promise<void> {
  for (const [tool, args] of [["git", ["--version"]], ["tmux", ["-V"]]] as const) {
    const result = await execa(tool, [...args], { reject: false });
    if (result.exitCode !== 0) throw new DemoFailedError(`${tool} is not installed; the demo needs Node, git and tmux (apt-get install -y ${tool})`);
  }
}

/** Prints what changed since the last look: stage and task phases, sessions. */
class Progress {
  private readonly seen = new Map<string, string>();
  constructor(private readonly out: (line: string) => void, private readonly started: number) {}

  async report(db: Ledger): Promise<Map<string, string>> {
    const stages = await db.selectFrom("stages").select(["name", "phase"]).execute();
    const tasks = await db.selectFrom("tasks").select(["name", "stage", "phase"]).execute();
    const sessions = await db.selectFrom("sessions").select(["id", "task", "role", "state"]).execute();
    const clock = `${((Date.now() - this.started) / 1000).toFixed(1).padStart(5)}s`;
    for (const s of stages) this.note(`stage/${s.name}`, s.phase, `${clock}  stage ${s.name}: ${s.phase}${s.phase === "AwaitingApproval" ? " (waits for a committed approval)" : ""}`);
    for (const t of tasks) this.note(`task/${t.name}`, t.phase, `${clock}    task ${t.name}: ${t.phase}`);
    for (const s of sessions) this.note(`session/${s.id}`, s.state === "Closed" ? "Closed" : "open", `${clock}      session ${s.id} (${s.role} for ${s.task}): ${s.state === "Closed" ? "closed, slot released" : "started"}`);
    return new Map(stages.map((s) => [s.name, s.phase]));
  }

  private note(key: string, value: string, line: string): void {
    if (this.seen.get(key) === value) return;
    this.seen.set(key, value);
    this.out(line);
  }
}

/**
 * `gaffer demo`: a throwaway target repo and control repo, then the real
 * controller runs plan -> build -> test -> merge with the scripted agent.
 * Approvals are committed by a demo approver identity (in real use, a person
 * commits them). Stops at the first failure, leaving everything to inspect.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  await preflight();
  const started = Date.now();
  const root = options.keep === undefined ? mkdtempSync(join(tmpdir(), "gaffer-demo-")) : resolve(options.keep);
  mkdirSync(root, { recursive: true });
  const control = join(root, "control");
  const target = join(root, "target");
  const socket = `gaffer-demo-${process.pid}`;
  options.out(`demo: target repo ${target}`);
  options.out(`demo: control repo ${control} (manifests committed by the demo author)`);
  await writeDemoTarget(target);
  await writeDemoControl(control, socket);

  let stop!: () => void;
  const stopSignal = new Promise<void>((r) => (stop = r));
  const progress = new Progress(options.out, started);
  const logger = pino({ level: "info" }, pino.destination({ dest: join(control, ".gaffer", "controller.log"), mkdir: true, sync: true }));
  const db = await openLedger(join(control, LEDGER_FILE));
  let failure: string | null = null;
  const approved = new Set<string>();
  let watching = false;
  const onPass = (): void => {
    if (watching) return;
    watching = true;
    void (async () => {
      const phases = await progress.report(db);
      for (const [stage, phase] of phases) {
        if (phase === "AwaitingApproval" && !approved.has(stage)) {
          approved.add(stage);
          const decision = await commitApprovalDecision({ dir: control, stage, decision: "approved", comment: "approved by the demo" });
          options.out(`         approval: ${DEMO_APPROVER} committed "approved" for ${decision.requestId} (${decision.commit.slice(0, 12)}); in real use a person runs \`gaffer approve ${stage}\``);
        }
        if (phase === "Failed") failure = `stage ${stage} failed; see status/stages/${stage}.yaml and \`gaffer log --dir ${control}\``;
      }
      if (failure !== null || (phases.size === 4 && [...phases.values()].every((p) => p === "Passed"))) stop();
    })()
      .catch((error: unknown) => {
        failure = (error as Error).message;
        stop();
      })
      .finally(() => {
        watching = false;
      });
  };
  const timer = setTimeout(() => {
    failure = `not finished after ${(options.timeoutMs ?? 120_000) / 1000} s; the controller log is ${join(control, ".gaffer", "controller.log")}`;
    stop();
  }, options.timeoutMs ?? 120_000);
  try {
    await runController({ dir: control, logger, effects: buildTaskEffects, resyncMs: 1000, stopSignal, onPass, clock: systemClock(), watcher: chokidarWatcher() });
    await progress.report(db);
  } finally {
    clearTimeout(timer);
    await db.destroy();
  }
  if (failure !== null) throw new DemoFailedError(`${failure}; everything is left in ${root} for inspection`);
  // Every agent session is closed; the control client's session would keep the demo's own tmux server alive for good.
  await new TmuxAdapter({ socket }).killServer().catch(() => undefined);
  return { root, control, target, socket, elapsedMs: Date.now() - started };
}
