import { expect, test } from "vitest";
import { listEvents } from "../../state/events.repository.js";
import { LEDGER_FILE, openLedger } from "../../state/ledger.js";
import { runGaffer } from "../helpers/cli.js";
import { controlDir } from "../helpers/control-dir.js";
import { testTmux } from "../helpers/session-fixture.js";
import { recordStagePhase } from "../helpers/stage-phase.js";
import { waitFor } from "../helpers/temp.js";
import { join } from "node:path";
import pino from "pino";
import { runController } from "../../controller/reconciler/run-controller.js";
import { buildTaskEffects } from "../../controller/reconciler/task-effects.js";

interface ReportSession {
  readonly id: string;
  readonly busyMs: number;
  readonly idleMs: number;
  readonly startingMs: number;
  readonly lifetimeMs: number;
}

test("with no controller, a session made by `gaffer session create` has its status kept current: left idle, the report does not count it busy", async () => {
  const tmux = testTmux();
  const fx = controlDir({ project: { tmuxSocket: tmux.socket }, tasks: [{ name: "add-a" }], agents: [{ name: "scripted", profile: "scripted", capacity: 2, idleAfterMs: 200 }] });
  const gaffer = (...args: string[]) => runGaffer([...args, "--dir", fx.dir]);
  await recordStagePhase(fx.dir, "build", "Running");
  expect((await gaffer("worktree", "create", "--task", "add-a")).exitCode).toBe(0);
  const created = await gaffer("session", "create", "--task", "add-a", "--agent", "scripted", "--json");
  expect(created.exitCode).toBe(0);
  const id = (JSON.parse(created.stdout) as { id: string }).id;

  // Nobody touches the session; each `gaffer report` observes it once before it reads the ledger.
  const session = await waitFor(async () => {
    const report = JSON.parse((await gaffer("report", "--json")).stdout) as { sessions: ReportSession[] };
    const s = report.sessions.find((x) => x.id === id);
    return s !== undefined && s.idleMs > 0 && s.lifetimeMs >= 1500 ? s : undefined;
  }, { timeoutMs: 30_000, intervalMs: 300, what: "the session observed idle for 1.5 s" });
  // Idle from the moment its screen had been still for idleAfterMs (200 ms), not from the moment someone looked.
  expect(session.busyMs).toBeLessThanOrEqual(200);
  expect(session.idleMs).toBe(session.lifetimeMs - session.startingMs - session.busyMs);
  expect(session.idleMs).toBeGreaterThan(session.busyMs);
  const list = JSON.parse((await gaffer("session", "list", "--json")).stdout) as { id: string; status: string }[];
  expect(list.map((s) => [s.id, s.status])).toEqual([[id, "idle"]]);

  const db = await openLedger(join(fx.dir, LEDGER_FILE));
  try {
    const idle = (await listEvents(db, { subject: `session/${id}`, action: "SessionStatusChanged" })).filter((e) => e.payload.to === "idle");
    expect(idle.length).toBe(1);
    expect(idle[0]!.actor).toMatch(/^cli:/);
    expect(Date.parse(String(idle[0]!.payload.since))).toBeLessThan(Date.parse(idle[0]!.at));
  } finally {
    await db.destroy();
  }
}, 90_000);

test("a running controller observes sessions it did not create: a CLI session's idle screen is recorded by the controller", async () => {
  const tmux = testTmux();
  // The stage needs an approval nobody gives: the controller runs no task of its own.
  const stages = [{ name: "build", approval: "required" as const, roles: [{ name: "builder", allowedAgents: ["scripted"] }], gate: { commands: [["true"]] } }];
  const fx = controlDir({ project: { tmuxSocket: tmux.socket }, stages, tasks: [{ name: "add-a" }], agents: [{ name: "scripted", profile: "scripted", capacity: 2, idleAfterMs: 200 }] });
  const gaffer = (...args: string[]) => runGaffer([...args, "--dir", fx.dir]);
  expect((await gaffer("worktree", "create", "--task", "add-a", "--override", "trying by hand")).exitCode).toBe(0);
  const created = await gaffer("session", "create", "--task", "add-a", "--agent", "scripted", "--override", "trying by hand", "--json");
  const id = (JSON.parse(created.stdout) as { id: string }).id;
  let stop!: () => void;
  const running = runController({ dir: fx.dir, logger: pino({ level: "silent" }), effects: buildTaskEffects, resyncMs: 60_000, stopSignal: new Promise<void>((r) => (stop = r)) });
  const db = await openLedger(join(fx.dir, LEDGER_FILE));
  try {
    const idle = await waitFor(async () => (await listEvents(db, { subject: `session/${id}`, action: "SessionStatusChanged" })).find((e) => e.payload.to === "idle"), { timeoutMs: 30_000, what: "the controller records the session idle" });
    expect(idle.actor).toBe("controller");
  } finally {
    stop();
    await running;
    await db.destroy();
  }
}, 90_000);
