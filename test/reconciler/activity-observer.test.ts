/**
 * Output by notification: a pane that prints or dies is looked at within
 * milliseconds, not at the next health round. The controller here runs with
 * a health round of 10 minutes, so only the notifications can explain what
 * the ledger records.
 */
import { join } from "node:path";
import { execa } from "execa";
import pino from "pino";
import { describe, expect, it, onTestFinished, vi } from "vitest";
import { ActivityObserver, type LookResult } from "../../controller/reconciler/activity-observer.js";
import { runController } from "../../controller/reconciler/run-controller.js";
import { buildTaskEffects } from "../../controller/reconciler/task-effects.js";
import { listEvents } from "../../state/events.repository.js";
import { LEDGER_FILE, openLedger, type Ledger } from "../../state/ledger.js";
import { getSession } from "../../state/sessions.repository.js";
import { runGaffer } from "../helpers/cli.js";
import { controlDir } from "../helpers/control-dir.js";
import { testTmux } from "../helpers/session-fixture.js";
import { waitFor } from "../helpers/temp.js";

describe("ActivityObserver (on vitest's fake clock: every time below is exact)", () => {
  it("looks at once after quiet, then after windows that double while pokes go on (the busy window once the agent works), once after the last, and when the look asks", async () => {
    vi.useFakeTimers();
    onTestFinished(() => void vi.useRealTimers());
    const t0 = Date.now();
    const looks: number[] = [];
    let result: LookResult = { againInMs: null, busy: false };
    const observer = new ActivityObserver(async () => {
      looks.push(Date.now() - t0);
      return result;
    }, { quietThrottleMs: 20, busyThrottleMs: 150, quietGapMs: 250 });
    onTestFinished(() => observer.close());
    /** A poke every 10 ms for `ms`, as a busy pane's output comes, then 300 ms of silence. */
    const pokeFor = async (ms: number): Promise<number[]> => {
      for (let elapsed = 0; elapsed < ms; elapsed += 10) {
        observer.poke("a");
        await vi.advanceTimersByTimeAsync(10);
      }
      await vi.advanceTimersByTimeAsync(300);
      return looks.splice(0);
    };
    // Quiet agent: the first poke is looked at at once, then after 20, 40, 80 ms and at most the busy window, one after the last poke.
    expect(await pokeFor(200)).toEqual([0, 20, 60, 140, 290]);
    // Working agent (the last look said busy): one look per 150 ms window.
    result = { againInMs: null, busy: true };
    await vi.advanceTimersByTimeAsync(1000); // past any window: the next poke is looked at at once
    expect(await pokeFor(400)).toEqual([1500, 1650, 1800, 1950]);
    // A look that answers a delay gets another look then, with no poke.
    result = { againInMs: 100, busy: false };
    await vi.advanceTimersByTimeAsync(1000);
    observer.poke("a");
    result = { againInMs: null, busy: false };
    await vi.advanceTimersByTimeAsync(300);
    expect(looks.splice(0)).toEqual([3200, 3300]);
    // The agent stops working while output goes on: the windows start short again (its next screen may be a question).
    await vi.advanceTimersByTimeAsync(1000);
    result = { againInMs: null, busy: true };
    observer.poke("a");
    await vi.advanceTimersByTimeAsync(0);
    result = { againInMs: null, busy: false };
    expect((await pokeFor(400)).map((at) => at - 4500)).toEqual([0, 150, 170, 190, 230, 310, 460]);
    // Output right after a look the screen's timing asked for (a person types the moment the agent was
    // recorded idle): the pane was silent for a whole window, so it is looked at at once.
    await vi.advanceTimersByTimeAsync(1000);
    result = { againInMs: 200, busy: false };
    observer.poke("a");
    await vi.advanceTimersByTimeAsync(0);
    result = { againInMs: null, busy: false };
    await vi.advanceTimersByTimeAsync(205);
    observer.poke("a");
    await vi.advanceTimersByTimeAsync(300);
    expect(looks.splice(0).map((at) => at - 6200)).toEqual([0, 200, 205]);
  });

  it("a working agent's pane that was silent for quietGapMs is looked at at once when it prints, not at the end of the busy window", async () => {
    vi.useFakeTimers();
    onTestFinished(() => void vi.useRealTimers());
    const t0 = Date.now();
    const looks: number[] = [];
    const observer = new ActivityObserver(async () => {
      looks.push(Date.now() - t0);
      return { againInMs: null, busy: true };
    }, { quietThrottleMs: 20, busyThrottleMs: 500, quietGapMs: 250 });
    onTestFinished(() => observer.close());
    observer.poke("a");
    await vi.advanceTimersByTimeAsync(100);
    // Output 100 ms after the last: inside the busy window, looked at when it ends.
    observer.poke("a");
    await vi.advanceTimersByTimeAsync(700);
    // Silent for 700 ms (past the gap, inside no window any more): at once; then 300 ms after (past the gap): at once again.
    observer.poke("a");
    await vi.advanceTimersByTimeAsync(300);
    observer.poke("a");
    await vi.advanceTimersByTimeAsync(1000);
    expect(looks).toEqual([0, 500, 800, 1100]);
    // A look the screen's timing asked for (100 ms after a busy look) waits for the busy window's end; output
    // after a silence meanwhile is looked at at once, and the waiting look is not made twice.
    await vi.advanceTimersByTimeAsync(1000);
    looks.length = 0;
    const again = new ActivityObserver(async () => {
      looks.push(Date.now() - t0);
      return { againInMs: looks.length === 1 ? 100 : null, busy: true };
    }, { quietThrottleMs: 20, busyThrottleMs: 500, quietGapMs: 250 });
    onTestFinished(() => again.close());
    again.poke("b");
    await vi.advanceTimersByTimeAsync(300);
    again.poke("b");
    await vi.advanceTimersByTimeAsync(1000);
    expect(looks.map((at) => at - 3100)).toEqual([0, 300]);
  });
});

/**
 * A control dir whose only stage waits for an approval nobody gives (the
 * controller runs no task of its own), and a scripted session a person
 * started by hand in it, for a controller to adopt.
 */
async function adoptableSession(idleAfterMs: number): Promise<{ tmux: ReturnType<typeof testTmux>; fx: ReturnType<typeof controlDir>; id: string }> {
  const tmux = testTmux();
  const stages = [{ name: "build", approval: "required" as const, roles: [{ name: "builder", allowedAgents: ["scripted"] }], gate: { commands: [["true"]] } }];
  const fx = controlDir({ project: { tmuxSocket: tmux.socket }, stages, tasks: [{ name: "add-a" }], agents: [{ name: "scripted", profile: "scripted", capacity: 2, idleAfterMs, maxRestarts: 0 }] });
  const gaffer = (...args: string[]) => runGaffer([...args, "--dir", fx.dir]);
  expect((await gaffer("worktree", "create", "--task", "add-a", "--override", "trying by hand")).exitCode).toBe(0);
  const created = await gaffer("session", "create", "--task", "add-a", "--agent", "scripted", "--override", "trying by hand", "--json");
  return { tmux, fx, id: (JSON.parse(created.stdout) as { id: string }).id };
}

/** Runs `body` beside a controller on `fx` (resync every 10 min; the ledger opened for reading), and stops both after it. */
async function withController(fx: ReturnType<typeof controlDir>, options: { readonly healthMs: number; readonly notifications?: boolean }, body: (db: Ledger) => Promise<void>): Promise<void> {
  let stop!: () => void;
  const running = runController({ dir: fx.dir, logger: pino({ level: process.env.GAFFER_TEST_LOG ?? "silent" }), effects: buildTaskEffects, resyncMs: 600_000, ...options, stopSignal: new Promise<void>((r) => (stop = r)) });
  const db = await openLedger(join(fx.dir, LEDGER_FILE));
  try {
    await body(db);
  } finally {
    stop();
    await running;
    await db.destroy();
  }
}

/** The controller's `SessionStatusChanged` events of session `id` to `to`. */
async function statusChanges(db: Ledger, id: string, to: string) {
  return (await listEvents(db, { subject: `session/${id}`, action: "SessionStatusChanged" })).filter((e) => e.payload.to === to && e.actor === "controller");
}

/** The windows of the controller's control session: two once its control-mode client follows the adopted session (linked in). */
async function controlWindows(socket: string): Promise<number> {
  return (await execa("tmux", ["-L", socket, "list-windows", "-t", "=gaffer-control", "-F", "#{window_id}"], { reject: false })).stdout.split("\n").filter(Boolean).length;
}

describe("a running controller looks at a pane when it prints or dies", () => {
  it("records the session running when a person types a command into it, idle when it is done, and Crashed when the agent dies, with no health round", async () => {
    // The stage needs an approval nobody gives: the controller runs no task of its own. The scripted agent shows
    // no busy line while it sleeps: its changed screen counts as working until still for idleAfterMs (1 s here).
    // The person's command prints a line every 600 ms for 12 s, so a look delayed by a loaded machine still finds
    // the screen changing: at the start of a full suite run (real agents starting beside it) looks came more than
    // 5 s late.
    const { tmux, fx, id } = await adoptableSession(1000);
    await withController(fx, { healthMs: 600_000 }, async (db) => {
      const changes = (to: string) => statusChanges(db, id, to);
      // The controller follows the session it adopted; a person attaches and types a command.
      await waitFor(async () => ((await tmux.capturePane(id, 40)).includes("scripted> ") ? true : undefined), { what: "the agent's prompt" });
      // The controller's control-mode client follows the adopted session: its window is linked into the control session.
      await waitFor(async () => ((await controlWindows(tmux.socket)) >= 2 ? true : undefined), { what: "the controller's control client following the session" });
      await tmux.pasteText(id, Array.from({ length: 20 }, () => "sleep 600").join("\n"));
      await tmux.sendEnter(id);
      const busy = await waitFor(async () => (await changes("running")).at(-1), { timeoutMs: 20_000, what: "the controller records the session running" });
      await waitFor(async () => (await changes("idle")).find((e) => e.id > busy.id), { timeoutMs: 30_000, what: "the controller records the session idle again" });
      // The agent dies: a crash, seen from the pane's death, not from a health round.
      const pid = (await getSession(db, id))!.panePid!;
      process.kill(pid, "SIGKILL");
      const crashed = await waitFor(async () => (await listEvents(db, { subject: `session/${id}`, action: "SessionCrashed" })).at(0), { timeoutMs: 10_000, what: "SessionCrashed" });
      expect(crashed.actor).toBe("controller");
    });
  }, 90_000);
});

describe("a quiet fleet (health rounds skipped while nothing changes)", () => {
  it("the tmux server killed under an idle agent is recorded as its crash within 2 s", async () => {
    const { tmux, fx, id } = await adoptableSession(200);
    await withController(fx, { healthMs: 200 }, async (db) => {
      // Followed, recorded idle, and quiet: nothing in the ledger moves for a second (five health rounds).
      await waitFor(async () => ((await controlWindows(tmux.socket)) >= 2 && (await getSession(db, id))?.status === "idle" ? true : undefined), { timeoutMs: 20_000, what: "the session followed and idle" });
      let last = { id: -1, since: Date.now() };
      await waitFor(async () => {
        const top = (await listEvents(db, { limit: 1 }))[0]?.id ?? 0;
        if (top !== last.id) last = { id: top, since: Date.now() };
        return Date.now() - last.since >= 1000 ? true : undefined;
      }, { timeoutMs: 20_000, what: "a still ledger" });
      const killedAt = Date.now();
      await execa("tmux", ["-L", tmux.socket, "kill-server"]);
      const crashed = await waitFor(async () => (await listEvents(db, { subject: `session/${id}`, action: "SessionCrashed" })).at(0), { timeoutMs: 10_000, what: "SessionCrashed" });
      expect(Date.parse(crashed.at) - killedAt).toBeLessThan(2000);
    });
  }, 90_000);
});

describe("gaffer up --poll (no control mode)", () => {
  it("starts no control client and still records a person's command through the health round's looks", async () => {
    const { tmux, fx, id } = await adoptableSession(2000);
    await withController(fx, { healthMs: 200, notifications: false }, async (db) => {
      const changes = (to: string) => statusChanges(db, id, to);
      // The controller's first looks: it records the settled prompt idle.
      await waitFor(async () => (await changes("idle")).at(0), { timeoutMs: 20_000, what: "the controller records the session idle" });
      // The scripted agent shows no busy line while it sleeps: its changed screen counts as working until it
      // has been still for idleAfterMs (2 s here, so that the health round's looks fall inside it); the command
      // prints a line every 600 ms for 2.4 s, so a round delayed by a loaded machine still finds it changing.
      await tmux.pasteText(id, "sleep 600\nsleep 600\nsleep 600\nsleep 600");
      await tmux.sendEnter(id);
      await waitFor(async () => (await changes("running")).at(0), { timeoutMs: 10_000, what: "the controller records the session running" });
      // Polled, never followed: tmux has no control session on this server.
      expect((await execa("tmux", ["-L", tmux.socket, "has-session", "-t", "=gaffer-control"], { reject: false })).exitCode).toBe(1);
    });
  }, 60_000);
});
