import { createActor, SimulatedClock } from "xstate";
import { sessionMachine, type SessionEvent, type SessionLimits, type SessionPhase, type SessionTag } from "./session.machine.js";

/** What the ledger holds of a session's lifecycle: enough to restore its machine. */
export interface PersistedSession {
  readonly id: string;
  readonly state: SessionPhase;
  readonly restarts: number;
  /** ISO time, or null. */
  readonly backoffUntil: string | null;
}

/** The machine's decision: the lifecycle columns after the event. */
export interface SessionDecision {
  readonly state: SessionPhase;
  readonly restarts: number;
  readonly backoffUntil: string | null;
  /** The machine moved to another state. */
  readonly changed: boolean;
}

/** Used when a session's agent is no longer in any AgentPool (closing it still works). */
export const UNKNOWN_AGENT_LIMITS: SessionLimits = { maxRestarts: 0, idleAfterMs: 1500, stuckAfterMs: 600_000, restartBackoffMs: 2000 };

/**
 * Pure: restores the session's machine from its persisted row, sends the
 * event at `event.at` and lets the timers that are already due fire (a
 * simulated clock at the event's time), so a persisted session gets the same
 * answer in any process. Nothing is written here.
 */
export function decideSession(current: PersistedSession, event: SessionEvent, limits: SessionLimits): SessionDecision {
  if (!sessionHasTag(current.state, "open")) return { state: current.state, restarts: current.restarts, backoffUntil: current.backoffUntil, changed: false };
  const key = timelessKey(current, event, limits);
  const known = key === null ? undefined : timeless.get(key);
  if (known !== undefined) return known;
  const decided = runMachine(current, event, limits);
  if (key !== null && timeless.size < TIMELESS_MAX) timeless.set(key, decided);
  return decided;
}

/**
 * Decisions that cannot depend on the time, remembered: a screen or a health
 * check that reports no settling and no trouble arms no timer (every timer
 * but a clocked state's is armed by one of those), so the same row and
 * event always get the same answer. Health rounds and resync looks ask this
 * of every quiet session.
 */
const timeless = new Map<string, SessionDecision>();
const TIMELESS_MAX = 4096;

function timelessKey(current: PersistedSession, event: SessionEvent, limits: SessionLimits): string | null {
  if (sessionHasTag(current.state, "clocked")) return null;
  if (event.type === "session.observed" && event.settlingForMs === null) return JSON.stringify([current.state, current.restarts, current.backoffUntil, event.type, event.status, limits]);
  if (event.type === "session.checked" && event.troubleForMs === null) return JSON.stringify([current.state, current.restarts, current.backoffUntil, event.type, limits]);
  return null;
}

function runMachine(current: PersistedSession, event: SessionEvent, limits: SessionLimits): SessionDecision {
  const clock = new SimulatedClock();
  const backoffUntil = current.backoffUntil === null ? null : Date.parse(current.backoffUntil);
  const context = { id: current.id, limits, restarts: current.restarts, backoffUntil, now: event.at, settlingForMs: null, troubleForMs: null };
  const snapshot = sessionMachine.resolveState({ value: current.state, context });
  const actor = createActor(sessionMachine, { snapshot, clock, input: { id: current.id, limits, at: event.at } }).start();
  actor.send(event);
  clock.increment(0);
  const after = actor.getSnapshot();
  actor.stop();
  const state = after.value as SessionPhase;
  return { state, restarts: after.context.restarts, backoffUntil: after.context.backoffUntil === null ? null : new Date(after.context.backoffUntil).toISOString(), changed: state !== current.state };
}

/** Whether sessions in `state` carry `tag` (see SessionTag). */
export function sessionHasTag(state: string, tag: SessionTag): boolean {
  const node = sessionMachine.states[state as SessionPhase];
  return node !== undefined && node.tags.includes(tag);
}

/** Every state that carries `tag`, for queries (`state in (...)`). */
export function sessionStatesTagged(tag: SessionTag): SessionPhase[] {
  return (Object.keys(sessionMachine.states) as SessionPhase[]).filter((state) => sessionHasTag(state, tag));
}
