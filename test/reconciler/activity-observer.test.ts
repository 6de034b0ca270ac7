/**
 * Output by notification: a pane that prints or dies is looked at within
 * milliseconds, not at the next health round. The controller here runs with
 * a health round of 10 minutes, so only the notifications can explain what
 * the ledger records.
 */
import { join } from "node:path";
import { execa } from "execa";
import pino from "pino";
import { describe, expect, it, onTestFinished } from "vitest";
import { ActivityObserver } from "../../controller/reconciler/activity-observer.js";
import { runController } from "../../controller/reconciler/run-controller.js";
import { buildTaskEffects } from "../../controller/reconciler/task-effects.js";
import { listEvents } from "../../state/events.repository.js";
import { LEDGER_FILE, openLedger } from "../../state/ledger.js";
import { getSession } from "../../state/sessions.repository.js";
import { runGaffer } from "../helpers/cli.js";
import { controlDir } from "../helpers/control-dir.js";
import { testTmux } from "../helpers/session-fixture.js";
import { waitFor } from "../helpers/temp.js";

describe("ActivityObserver", () => {
  it("looks at once after quiet, once per throttle window while pokes go on, once after the last, and when the look asks", async () => {
    const looks: number[] = [];
    let answer: number | null = null;
    const observer = new ActivityObserver(async () => {
      looks.push(Date.now());
      return answer;
    }, 150);
    onTestFinished(() => observer.close());
    const t0 = Date.now();
    observer.poke("a");
    expect(looks.length).toBe(1); // at once: nothing was happening
    for (let i = 0; i < 20; i++) {
      observer.poke("a");
      await new Promise((r) => setTimeout(r, 10)); // pokes every 10 ms, as a busy pane's output would come
    }
    await waitFor(() => (Date.now() - t0 > 200 + 150 + 50 ? true : undefined), { intervalMs: 20 });
    // 200 ms of pokes at a 150 ms throttle: the first look, at most one per window, one after the last poke.
    expect(looks.length).toBeGreaterThanOrEqual(2);
    expect(looks.length).toBeLessThanOrEqual(3);
    for (let i = 1; i < looks.length; i++) expect(looks[i]! - looks[i - 1]!).toBeGreaterThanOrEqual(145);
    // A look that answers a delay gets another look then, with no poke.
    const before = looks.length;
    answer = 100;
    await waitFor(() => (Date.now() - looks.at(-1)! >= 150 ? true : undefined), { intervalMs: 20 });
    observer.poke("a");
    answer = null;
    await waitFor(() => (looks.length >= before + 2 ? true : undefined), { timeoutMs: 2000, what: "the look asked for" });
  });
});

describe("a running controller looks at a pane when it prints or dies", () => {
  it("records the session running when a person types a command into it, idle when it is done, and Crashed when the agent dies, with no health round", async () => {
    const tmux = testTmux();
    // The stage needs an approval nobody gives: the controller runs no task of its own.
    const stages = [{ name: "build", approval: "required" as const, roles: [{ name: "builder", allowedAgents: ["scripted"] }], gate: { commands: [["true"]] } }];
    const fx = controlDir({ project: { tmuxSocket: tmux.socket }, stages, tasks: [{ name: "add-a" }], agents: [{ name: "scripted", profile: "scripted", capacity: 2, idleAfterMs: 200, maxRestarts: 0 }] });
    const gaffer = (...args: string[]) => runGaffer([...args, "--dir", fx.dir]);
    expect((await gaffer("worktree", "create", "--task", "add-a", "--override", "trying by hand")).exitCode).toBe(0);
    const created = await gaffer("session", "create", "--task", "add-a", "--agent", "scripted", "--override", "trying by hand", "--json");
    const id = (JSON.parse(created.stdout) as { id: string }).id;
    let stop!: () => void;
    const running = runController({ dir: fx.dir, logger: pino({ level: "silent" }), effects: buildTaskEffects, resyncMs: 600_000, healthMs: 600_000, stopSignal: new Promise<void>((r) => (stop = r)) });
    const db = await openLedger(join(fx.dir, LEDGER_FILE));
    try {
      const changes = async (to: string) => (await listEvents(db, { subject: `session/${id}`, action: "SessionStatusChanged" })).filter((e) => e.payload.to === to && e.actor === "controller");
      // The controller follows the session it adopted; a person attaches and types a command.
      await waitFor(async () => ((await tmux.capturePane(id, 40)).includes("scripted> ") ? true : undefined), { what: "the agent's prompt" });
      // The controller's control-mode client is attached (it follows the adopted session from then on).
      await waitFor(async () => ((await execa("tmux", ["-L", tmux.socket, "list-clients", "-F", "#{client_control_mode}"], { reject: false })).stdout.includes("1") ? true : undefined), { what: "the controller's control client" });
      await tmux.pasteText(id, "sleep 1500");
      await tmux.sendEnter(id);
      const busy = await waitFor(async () => (await changes("running")).at(-1), { timeoutMs: 10_000, what: "the controller records the session running" });
      await waitFor(async () => (await changes("idle")).find((e) => e.id > busy.id), { timeoutMs: 15_000, what: "the controller records the session idle again" });
      // The agent dies: a crash, seen from the pane's death, not from a health round.
      const pid = (await getSession(db, id))!.panePid!;
      process.kill(pid, "SIGKILL");
      const crashed = await waitFor(async () => (await listEvents(db, { subject: `session/${id}`, action: "SessionCrashed" })).at(0), { timeoutMs: 10_000, what: "SessionCrashed" });
      expect(crashed.actor).toBe("controller");
    } finally {
      stop();
      await running;
      await db.destroy();
    }
  }, 90_000);
});
