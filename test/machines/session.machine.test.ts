/**
 * The session machine owns a session's lifecycle: its transitions and its
 * timers (idle after silence, stuck after trouble, the rate-limit backoff) run
 * here on xstate's SimulatedClock, with no tmux and no sleep.
 */
import { expect, test } from "vitest";
import { createActor, SimulatedClock } from "xstate";
import { decideSession, sessionHasTag, sessionStatesTagged } from "../../controller/machines/session-lifecycle.js";
import { sessionMachine, type SessionLimits } from "../../controller/machines/session.machine.js";

const LIMITS: SessionLimits = { maxRestarts: 1, idleAfterMs: 1500, stuckAfterMs: 60_000, restartBackoffMs: 2000 };

/** A started session on a simulated clock; `at()` is the clock's time (events carry it). */
function started(limits: SessionLimits = LIMITS) {
  const clock = new SimulatedClock();
  const actor = createActor(sessionMachine, { clock, input: { id: "s1", limits, at: 0 } }).start();
  actor.send({ type: "session.started", at: 0, waiting: false });
  return { clock, actor, at: () => clock.now(), state: () => actor.getSnapshot().value };
}

test("idle: a ready screen still settling becomes Idle after idleAfterMs of silence, and output restarts the count", () => {
  const s = started();
  s.actor.send({ type: "session.observed", at: s.at(), status: "running", settlingForMs: 0 });
  expect(s.state()).toBe("Running");
  s.clock.increment(1000);
  // Output at 1000 ms: the screen changed, its silence counts again from here.
  s.actor.send({ type: "session.observed", at: s.at(), status: "running", settlingForMs: 0 });
  s.clock.increment(1499);
  expect(s.state()).toBe("Running");
  s.clock.increment(1);
  expect(s.state()).toBe("Idle");
});

test("idle: a working screen (not settling) never becomes Idle by time alone", () => {
  const s = started();
  s.actor.send({ type: "session.observed", at: s.at(), status: "running", settlingForMs: null });
  s.clock.increment(59_999);
  expect(s.state()).toBe("Running");
});

test("stuck: trouble a health check found becomes Stuck once it has lasted stuckAfterMs; a calm screen disarms it", () => {
  const s = started();
  s.actor.send({ type: "session.observed", at: s.at(), status: "running", settlingForMs: null });
  s.actor.send({ type: "session.checked", at: s.at(), troubleForMs: 50_000 });
  s.clock.increment(9_999);
  expect(s.state()).toBe("Running");
  s.clock.increment(1);
  expect(s.state()).toBe("Stuck");
  expect(s.actor.getSnapshot().hasTag("recoverable")).toBe(true);
  // Stuck -> restarted: the restart counts, and a calm check never arms the timer.
  s.actor.send({ type: "session.restart", at: s.at() });
  s.actor.send({ type: "session.restarted", at: s.at() });
  expect([s.state(), s.actor.getSnapshot().context.restarts]).toEqual(["Idle", 1]);
  s.actor.send({ type: "session.checked", at: s.at(), troubleForMs: null });
  s.clock.increment(120_000);
  expect(s.state()).toBe("Idle");
});

test("backoff: a rate limit holds the session in Backoff until its reset time, then it is Idle with no backoff left", () => {
  const s = started();
  s.actor.send({ type: "session.rateLimited", at: s.at(), until: 30_000 });
  expect(s.state()).toBe("Backoff");
  expect(s.actor.getSnapshot().hasTag("observed")).toBe(true);
  // A screen seen during the backoff does not end it.
  s.actor.send({ type: "session.observed", at: s.at(), status: "idle", settlingForMs: null });
  s.clock.increment(29_999);
  expect(s.state()).toBe("Backoff");
  s.clock.increment(1);
  expect([s.state(), s.actor.getSnapshot().context.backoffUntil]).toEqual(["Idle", null]);
});

test("crash during a delivery: Crashed with an exponential backoff; a late idle screen from the delivery loop cannot revive it; the restart waits for the backoff", () => {
  const s = started();
  s.actor.send({ type: "session.observed", at: 100, status: "running", settlingForMs: null });
  s.actor.send({ type: "session.died", at: 200 });
  expect([s.state(), s.actor.getSnapshot().context.backoffUntil]).toEqual(["Crashed", 2200]);
  // The delivery loop looked at the screen just before the pane died and reports idle now: ignored.
  s.actor.send({ type: "session.observed", at: 250, status: "idle", settlingForMs: null });
  expect(s.state()).toBe("Crashed");
  s.actor.send({ type: "session.restart", at: 2199 });
  expect(s.state()).toBe("Crashed");
  s.actor.send({ type: "session.restart", at: 2200 });
  expect(s.state()).toBe("Restarting");
  // The restart fails: Crashed again, backoff doubled from the new count.
  s.actor.send({ type: "session.restartFailed", at: 3000 });
  expect([s.state(), s.actor.getSnapshot().context.restarts, s.actor.getSnapshot().context.backoffUntil]).toEqual(["Crashed", 1, 7000]);
  // maxRestarts (1) reached: the next restart gives up.
  s.actor.send({ type: "session.restart", at: 7000 });
  expect([s.state(), s.actor.getSnapshot().status]).toEqual(["Failed", "done"]);
});

test("close wins from every open state; Closed and Failed take no event", () => {
  for (const state of sessionStatesTagged("open")) {
    const d = decideSession({ id: "s1", state, restarts: 0, backoffUntil: null }, { type: "session.close", at: 1 }, LIMITS);
    expect([state, d.state]).toEqual([state, "Closed"]);
  }
  for (const state of ["Closed", "Failed"] as const) {
    const d = decideSession({ id: "s1", state, restarts: 0, backoffUntil: null }, { type: "session.died", at: 1 }, LIMITS);
    expect([d.state, d.changed]).toEqual([state, false]);
  }
});

test("a persisted session decides in one step what its timers say at the event's time", () => {
  const row = { id: "s1", state: "Backoff" as const, restarts: 0, backoffUntil: new Date(10_000).toISOString() };
  expect(decideSession(row, { type: "session.checked", at: 9_999, troubleForMs: null }, LIMITS).state).toBe("Backoff");
  expect(decideSession(row, { type: "session.checked", at: 10_000, troubleForMs: null }, LIMITS)).toEqual({ state: "Idle", restarts: 0, backoffUntil: null, changed: true });
  const running = { id: "s1", state: "Running" as const, restarts: 0, backoffUntil: null };
  expect(decideSession(running, { type: "session.checked", at: 5, troubleForMs: 59_999 }, LIMITS).state).toBe("Running");
  expect(decideSession(running, { type: "session.checked", at: 5, troubleForMs: 60_000 }, LIMITS).state).toBe("Stuck");
  expect(decideSession(running, { type: "session.observed", at: 5, status: "running", settlingForMs: 1500 }, LIMITS).state).toBe("Idle");
});

test("tags are the one list of what is open, live, observed and held", () => {
  expect(sessionStatesTagged("open")).toEqual(["Starting", "Idle", "Running", "Waiting", "Stuck", "Backoff", "Crashed", "Restarting"]);
  expect(sessionStatesTagged("live")).toEqual(["Starting", "Idle", "Running", "Waiting", "Stuck", "Backoff"]);
  expect(sessionStatesTagged("observed")).toEqual(["Idle", "Running", "Waiting", "Stuck", "Backoff"]);
  expect(sessionStatesTagged("held")).toEqual(["Starting", "Stuck", "Crashed", "Restarting"]);
  expect(sessionStatesTagged("recoverable")).toEqual(["Stuck", "Crashed"]);
  expect(sessionHasTag("Closed", "open")).toBe(false);
  expect(sessionHasTag("NoSuchState", "open")).toBe(false);
});

test("a screen or health check with no settling and no trouble gets the same answer at any time except in a clocked state (so decideSession may remember it)", () => {
  /** The machine itself, restored and run at `at` with no memory in between (what decideSession must agree with). */
  const reference = (state: string, event: Parameters<typeof decideSession>[1]): string => {
    const clock = new SimulatedClock();
    const context = { id: "s1", limits: LIMITS, restarts: 0, backoffUntil: 50_000, now: event.at, settlingForMs: null, troubleForMs: null };
    const actor = createActor(sessionMachine, { snapshot: sessionMachine.resolveState({ value: state, context }), clock, input: { id: "s1", limits: LIMITS, at: event.at } }).start();
    actor.send(event);
    clock.increment(0);
    return String(actor.getSnapshot().value);
  };
  const events = (at: number) => [
    ...["idle", "running", "waiting", "error", "unknown"].map((status) => ({ type: "session.observed" as const, at, status, settlingForMs: null })),
    { type: "session.checked" as const, at, troubleForMs: null },
  ];
  const timeDependent = new Set<string>();
  for (const state of sessionStatesTagged("open")) {
    const row = { id: "s1", state, restarts: 0, backoffUntil: new Date(50_000).toISOString() };
    for (const at of [0, 49_999, 50_000, 10 ** 12]) {
      for (const event of events(at)) {
        expect(decideSession(row, event, LIMITS).state, `${state} ${event.type} at ${at}`).toBe(reference(state, event));
        if (reference(state, event) !== reference(state, { ...event, at: 0 })) timeDependent.add(state);
      }
    }
  }
  // Only a clocked state's answer moves with the time alone: every other answer is remembered safely.
  expect([...timeDependent]).toEqual(["Backoff"]);
  expect(sessionStatesTagged("clocked")).toEqual(["Backoff"]);
});
