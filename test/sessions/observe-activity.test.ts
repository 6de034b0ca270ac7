import { execFileSync } from "node:child_process";
import { describe, expect, it, onTestFinished } from "vitest";
import pino from "pino";
import { WatchedTmux } from "../../controller/adapters/watched-tmux.js";
import { observeSession, findAgent, resyncSettledLooks, type Observation, type SessionServiceContext } from "../../controller/sessions/context.js";
import { createSession, readSessionOutput, sendCommand } from "../../controller/sessions/index.js";
import { getSession } from "../../state/sessions.repository.js";
import { sessionFixture } from "../helpers/session-fixture.js";
import { waitFor } from "../helpers/temp.js";

/**
 * A scripted session on a watched server, with every capture the session
 * service asks for counted (a spy on the real adapter), and a look at it.
 */
async function countedSession(timing: SessionServiceContext["timing"] = {}) {
  const f = await sessionFixture();
  const watched = new WatchedTmux({ socket: f.socket, logger: pino({ level: "silent" }) });
  onTestFinished(() => watched.close());
  const captures: string[] = [];
  const snapshot = watched.snapshot.bind(watched);
  watched.snapshot = async (name, lines) => {
    captures.push(name);
    return snapshot(name, lines);
  };
  const ctx: SessionServiceContext = { ...f.ctx, tmux: watched, activity: watched, timing };
  const session = await createSession(ctx, { task: "round-trip", agent: "scripted", role: "builder", worktree: f.dir });
  const agent = findAgent(ctx, "scripted");
  const look = async (): Promise<Observation> => observeSession(ctx, (await getSession(ctx.db, session.id))!, agent);
  return { f, watched, captures, ctx, session, agent, look };
}

/** A missed notification: the control client no longer follows the pane, then `text` is typed into it. */
async function missNotification(watched: WatchedTmux, socket: string, session: string, text: string): Promise<void> {
  const control = (watched as unknown as { control: { unwatch(session: string): Promise<void> } }).control;
  await control.unwatch(session);
  execFileSync("tmux", ["-L", socket, "send-keys", "-t", `=${session}:`, "-l", text]);
  await waitFor(async () => ((await watched.snapshot(session, 50))?.screen.includes(text) ? true : undefined));
  expect(watched.changedSince(session, Date.now() - 60_000)).toBe(false);
}

describe("observation by notification", () => {
  it("captures a pane again only after it printed something or died", async () => {
    const { watched, captures, ctx, session, look } = await countedSession();
    // Idle and settled: one more look records it, then looks are answered from memory.
    await waitFor(async () => ((await look()).evidence.status === "idle" ? true : undefined));
    const before = captures.length;
    for (let i = 0; i < 5; i++) expect((await look()).evidence.status).toBe("idle");
    expect(captures.length).toBe(before);
    // Output arrives: the next look captures, and sees the agent work.
    await sendCommand(ctx, { sessionId: session.id, text: "sleep 300" });
    const out = await readSessionOutput(ctx, { sessionId: session.id, lines: 20 });
    expect(out.text).toContain("sleep 300");
    expect(captures.length).toBeGreaterThan(before);
    // The pane dies: noticed without any output.
    const pid = (await watched.paneState(session.tmuxName))!.pid;
    await waitFor(async () => ((await look()).evidence.status === "idle" ? true : undefined));
    process.kill(pid, "SIGKILL");
    const dead = await waitFor(async () => {
      const seen = await look();
      return seen.pane === null || seen.pane.dead ? seen : undefined;
    }, { timeoutMs: 5000 });
    expect(dead.pane === null || dead.pane.dead).toBe(true);
  });

  it("falls back to capturing every time when no control client runs", async () => {
    const f = await sessionFixture();
    const watched = new WatchedTmux({ socket: f.socket, logger: pino({ level: "silent" }) });
    const session = await createSession(f.ctx, { task: "round-trip", agent: "scripted", role: "builder", worktree: f.dir });
    // Never watched (created through the plain adapter): every answer is "changed".
    expect(watched.changedSince(session.tmuxName, Date.now())).toBe(true);
    expect(await watched.watch(session.tmuxName)).toBe(true);
    onTestFinished(() => watched.close());
    const now = Date.now();
    expect(watched.changedSince(session.tmuxName, now)).toBe(false);
    await watched.pasteText(session.tmuxName, "x");
    await waitFor(() => (watched.changedSince(session.tmuxName, now) ? true : undefined));
  });

  it("nextChange waits for output, a kill, wakeAll or its limit; an unwatched session is polled, never spun on", async () => {
    const f = await sessionFixture();
    const watched = new WatchedTmux({ socket: f.socket, logger: pino({ level: "silent" }) });
    onTestFinished(() => watched.close());
    const session = await createSession({ ...f.ctx, tmux: watched, activity: watched }, { task: "round-trip", agent: "scripted", role: "builder", worktree: f.dir });
    const name = session.tmuxName;
    // Start-up output is behind us once the pane is quiet: then a wait with a limit ends at the limit.
    await waitFor(async () => {
      const at = Date.now();
      await watched.nextChange(name, at, 300);
      return watched.changedSince(name, at) ? undefined : true;
    });
    const timed = Date.now();
    await watched.nextChange(name, timed, 200);
    expect(Date.now() - timed).toBeGreaterThanOrEqual(190);
    // Output ends the wait (long limit: only the output can end it in time).
    const typed = Date.now();
    const onOutput = watched.nextChange(name, typed, 60_000);
    await watched.pasteText(name, "x");
    await onOutput;
    expect(watched.changedSince(name, typed)).toBe(true);
    // wakeAll (another process wrote the ledger) ends every wait.
    const woken = watched.nextChange(name, Date.now() + 1, 60_000);
    watched.wakeAll();
    await woken;
    // Output before the wait began is not missed: it returns at once (already settled by the next microtask, no timer).
    let returned = false;
    const early = watched.nextChange(name, typed, 60_000).then(() => void (returned = true));
    await null;
    expect(returned).toBe(true);
    await early;
    // A kill ends it too.
    const killed = watched.nextChange(name, Date.now() + 1, 60_000);
    await watched.killSession(name);
    await killed;
    // Unwatched: every answer is "changed", so nextChange polls (about 500 ms) instead of returning at once.
    const other = await createSession(f.ctx, { task: "round-trip", agent: "scripted", role: "builder", worktree: f.dir });
    const polled = Date.now();
    await watched.nextChange(other.tmuxName, polled, 60_000);
    expect(Date.now() - polled).toBeGreaterThanOrEqual(450);
  });

  it("a control connection that stops answering is given up: the look is answered by tmux directly, sessions are polled, then followed again", async () => {
    const f = await sessionFixture();
    const watched = new WatchedTmux({ socket: f.socket, logger: pino({ level: "silent" }), commandTimeoutMs: 300 });
    onTestFinished(() => watched.close());
    const session = await createSession({ ...f.ctx, tmux: watched, activity: watched }, { task: "round-trip", agent: "scripted", role: "builder", worktree: f.dir });
    await waitFor(async () => ((await f.tmux.snapshot(session.tmuxName, 5))?.screen.includes("scripted>") === true ? true : undefined));
    expect(watched.changedSince(session.tmuxName, Date.now())).toBe(false);
    // A frozen tmux server answers nothing (the control client's commands are read by the server itself).
    const server = Number(execFileSync("tmux", ["-L", f.socket, "display-message", "-p", "#{pid}"], { encoding: "utf8", env: { ...process.env, TMUX: "" } }).trim());
    process.kill(server, "SIGSTOP");
    onTestFinished(() => void process.kill(server, "SIGCONT"));
    const look = watched.snapshot(session.tmuxName, 5);
    // Given up after 300 ms: notifications are off, every answer is "changed" (polling)...
    await waitFor(() => (watched.changedSince(session.tmuxName, Date.now()) ? true : undefined), { timeoutMs: 10_000 });
    process.kill(server, "SIGCONT");
    // ...and the look itself is answered by a plain tmux call once the server runs again.
    const seen = await look;
    expect(seen?.screen).toContain("scripted>");
    expect(seen?.pane.dead).toBe(false);
    // Once tmux answers again a new control client follows the session on its own (no new session needed):
    // its output is notified again, and the session is poked once for what it printed unwatched.
    const poked: string[] = [];
    watched.onActivity((name) => poked.push(name));
    await waitFor(() => (watched.isWatching(session.tmuxName) ? true : undefined), { timeoutMs: 10_000 });
    await waitFor(() => (poked.includes(session.tmuxName) ? true : undefined));
    const quiet = await waitFor(() => {
      const at = Date.now();
      return watched.changedSince(session.tmuxName, at) ? undefined : at;
    });
    await watched.pasteText(session.tmuxName, "y");
    await waitFor(() => (watched.changedSince(session.tmuxName, quiet) ? true : undefined));
  });
  it("a resync look that finds the screen changed with no output notified wakes whoever waits on the session", async () => {
    // Settled screens are looked at again after 200 ms (30 s by default).
    const { f, watched, captures, session, look } = await countedSession({ resyncLookMs: 200 });
    await waitFor(async () => ((await look()).recalled === true ? true : undefined));
    let woke = false;
    void watched.nextChange(session.tmuxName, Date.now(), 60_000).then(() => (woke = true));
    // The same screen, looked at again in full: nobody is woken.
    const before = captures.length;
    await waitFor(async () => ((await look()).recalled !== true ? true : undefined));
    expect(captures.length).toBeGreaterThan(before);
    expect(woke).toBe(false);
    await missNotification(watched, f.socket, session.tmuxName, "typed by someone");
    await waitFor(async () => {
      await look();
      return woke ? true : undefined;
    }, { timeoutMs: 5000, what: "the waiter woken by the look that saw the new screen" });
  });
  it("settled looks stand on tmux's own record of output (one command for all sessions, no capture); a pane that printed unnotified is looked at in full", async () => {
    // Settled screens would be looked at again after 1.5 s: only a resync by the record keeps them.
    const { f, watched, captures, ctx, session, look } = await countedSession({ resyncLookMs: 1500 });
    // A settled look taken a second or more after the pane's last output is renewed by the record.
    await waitFor(async () => {
      if ((await look()).recalled !== true) return undefined;
      const resync = await resyncSettledLooks(ctx);
      return resync?.renewed === 1 ? true : undefined;
    }, { what: "a settled look the record renews" });
    const before = captures.length;
    for (let i = 0; i < 3; i++) {
      // Past the 1.5 s a look would last without the record: renewed again, never captured.
      const asked = Date.now();
      await waitFor(() => (Date.now() - asked >= 600 ? true : undefined), { intervalMs: 100 });
      expect(await resyncSettledLooks(ctx)).toEqual({ renewed: 1, forgotten: 0 });
      expect((await look()).recalled).toBe(true);
    }
    expect(captures.length).toBe(before);
    let woke = false;
    void watched.nextChange(session.tmuxName, Date.now(), 60_000).then(() => (woke = true));
    await missNotification(watched, f.socket, session.tmuxName, "typed by someone");
    expect(woke).toBe(false);
    expect(await resyncSettledLooks(ctx)).toEqual({ renewed: 0, forgotten: 1 });
    // Whoever waits on the session (a prompt's queue) is woken to look.
    await waitFor(() => (woke ? true : undefined), { timeoutMs: 1000, what: "the waiter woken by the resync" });
    const seen = await look();
    expect(seen.recalled).toBeUndefined();
    expect(seen.screen).toContain("typed by someone");
  });
});
