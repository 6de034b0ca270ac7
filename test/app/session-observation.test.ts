import { expect, test } from "vitest";
import { listEvents } from "../../state/events.repository.js";
import { LEDGER_FILE, openLedger } from "../../state/ledger.js";
import { runGaffer } from "../helpers/cli.js";
import { controlDir } from "../helpers/control-dir.js";
import { testTmux } from "../helpers/session-fixture.js";
import { recordStagePhase } from "../helpers/stage-phase.js";
import { waitFor } from "../helpers/temp.js";
import { join } from "node:path";

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
