import { assign, setup } from "xstate";
import type { SessionState } from "../../state/sessions.repository.js";

/** A session's lifecycle state: the `sessions.state` column holds exactly these. */
export type SessionPhase = SessionState;

/**
 * What a state means to the rest of gaffer (one source, read with
 * `sessionHasTag`/`sessionStatesTagged`):
 * - `open`: not yet Closed or Failed (it holds a tmux session and a capacity slot);
 * - `live`: its agent should be running (a dead pane here is a crash);
 * - `observed`: its screen is read and classified by whoever looks (Starting belongs to its creator);
 * - `screen`: the screen status (idle/running/waiting) sets the state;
 * - `held`: nothing is delivered to it;
 * - `recoverable`: the health loop restarts it (Crashed, Stuck);
 * - `recovering`: the health loop is working on it: wait for the outcome, never start a second session;
 * - `clocked`: a timer of the state runs whatever the screen shows (Backoff's end): the health round must
 *   tell the machine the time even when nothing was seen. The other timers are armed by what a look saw
 *   (trouble, a settling screen), so a session whose pane was silent since a settled look needs no check.
 */
export type SessionTag = "open" | "live" | "observed" | "screen" | "held" | "recoverable" | "recovering" | "clocked";

/** The agent's timings and restart policy the machine's guards and timers use. */
export interface SessionLimits {
  readonly maxRestarts: number;
  /** A ready screen becomes Idle after this long without output. */
  readonly idleAfterMs: number;
  /** Trouble (a quiet running screen, an error episode, an unknown screen) becomes Stuck after this long. */
  readonly stuckAfterMs: number;
  /** A crash waits `restartBackoffMs * 2^restarts` before the restart. */
  readonly restartBackoffMs: number;
}

export interface SessionContext {
  readonly id: string;
  readonly limits: SessionLimits;
  readonly restarts: number;
  /** Epoch ms before which nothing restarts (Crashed) or is delivered (Backoff); null when none. */
  readonly backoffUntil: number | null;
  /** The time of the last event (epoch ms): timers count from here. */
  readonly now: number;
  /** A ready screen still settling into Idle: how long it has been quiet at `now`; null otherwise. */
  readonly settlingForMs: number | null;
  /** How long the present trouble has lasted at `now` (a health check's finding); null when there is none. */
  readonly troubleForMs: number | null;
}

/** Facts from screens, panes and effects; `at` is when they were seen (epoch ms). Dotted lowercase. */
export type SessionEvent =
  | { readonly type: "session.started"; readonly at: number; readonly waiting: boolean }
  | { readonly type: "session.observed"; readonly at: number; readonly status: string; readonly settlingForMs: number | null }
  | { readonly type: "session.checked"; readonly at: number; readonly troubleForMs: number | null }
  | { readonly type: "session.rateLimited"; readonly at: number; readonly until: number }
  | { readonly type: "session.died"; readonly at: number }
  | { readonly type: "session.restart"; readonly at: number }
  | { readonly type: "session.restarted"; readonly at: number }
  | { readonly type: "session.restartFailed"; readonly at: number }
  | { readonly type: "session.startFailed"; readonly at: number }
  | { readonly type: "session.close"; readonly at: number };

export interface SessionInput {
  readonly id: string;
  readonly limits: SessionLimits;
  readonly at: number;
}

const SCREEN_STATE: Readonly<Record<string, "Idle" | "Running" | "Waiting">> = { idle: "Idle", running: "Running", waiting: "Waiting" };

const sessionSetup = setup({
  types: { context: {} as SessionContext, events: {} as SessionEvent, input: {} as SessionInput },
  guards: {
    exhausted: ({ context }) => context.restarts >= context.limits.maxRestarts,
    cooled: ({ context, event }) => context.backoffUntil === null || event.at >= context.backoffUntil,
    settling: ({ context }) => context.settlingForMs !== null,
    troubled: ({ context }) => context.troubleForMs !== null,
    waitingScreen: ({ event }) => event.type === "session.started" && event.waiting,
    idleScreen: ({ event }) => event.type === "session.observed" && SCREEN_STATE[event.status] === "Idle",
    runningScreen: ({ event }) => event.type === "session.observed" && SCREEN_STATE[event.status] === "Running",
    waitingScreenSeen: ({ event }) => event.type === "session.observed" && SCREEN_STATE[event.status] === "Waiting",
  },
  delays: {
    idle: ({ context }) => Math.max(0, context.limits.idleAfterMs - (context.settlingForMs ?? 0)),
    stuck: ({ context }) => Math.max(0, context.limits.stuckAfterMs - (context.troubleForMs ?? 0)),
    backoff: ({ context }) => Math.max(0, (context.backoffUntil ?? context.now) - context.now),
  },
  actions: {
    stamp: assign({ now: ({ event }) => event.at }),
    observe: assign({ settlingForMs: ({ event }) => (event.type === "session.observed" ? event.settlingForMs : null), troubleForMs: null }),
    check: assign({ troubleForMs: ({ event }) => (event.type === "session.checked" ? event.troubleForMs : null) }),
    crash: assign({ backoffUntil: ({ context, event }) => event.at + context.limits.restartBackoffMs * 2 ** context.restarts, settlingForMs: null, troubleForMs: null }),
    rateLimit: assign({ backoffUntil: ({ event }) => (event.type === "session.rateLimited" ? event.until : null) }),
    clearBackoff: assign({ backoffUntil: null }),
    countRestart: assign({ restarts: ({ context }) => context.restarts + 1 }),
  },
});

/** An observation re-enters the state it leads to, so its timers count from this observation. */
function screenTransitions(self: "Idle" | "Running" | "Waiting" | "Stuck") {
  const to = (target: string, guard?: "idleScreen" | "runningScreen" | "waitingScreenSeen") => ({ ...(guard === undefined ? {} : { guard }), target, reenter: true, actions: ["stamp", "observe"] as const });
  return [to("Idle", "idleScreen"), to("Running", "runningScreen"), to("Waiting", "waitingScreenSeen"), to(self)];
}

/** What every running agent answers: a death, a rate limit, a health check (which arms the stuck timer). */
function liveTransitions(self: "Idle" | "Running" | "Waiting") {
  return {
    "session.observed": screenTransitions(self),
    "session.checked": { target: self, reenter: true, actions: ["stamp", "check"] as const },
    "session.rateLimited": { target: "Backoff", actions: ["stamp", "rateLimit"] as const },
    "session.died": { target: "Crashed", actions: ["stamp", "crash"] as const },
  };
}

const stuckTimer = { stuck: { guard: "troubled" as const, target: "Stuck" } };
const OPEN_LIVE = ["open", "live", "observed", "screen"] as const;

/**
 * A session: `Starting -> Idle <-> Running -> Waiting | Crashed -> Restarting | Closed`,
 * plus `Stuck` (trouble for stuckAfterMs), `Backoff` (a rate limit, until its reset) and
 * `Failed` (start-up failed, or crashes beyond maxRestarts). Timers are delayed
 * transitions: a settling ready screen becomes Idle, trouble becomes Stuck, a
 * rate-limit backoff ends. The machine alone decides these; the session store
 * persists what it decides (controller/sessions/session-store.ts).
 */
export const sessionMachine = sessionSetup.createMachine({
  id: "session",
  context: ({ input }) => ({ id: input.id, limits: input.limits, restarts: 0, backoffUntil: null, now: input.at, settlingForMs: null, troubleForMs: null }),
  initial: "Starting",
  states: {
    Starting: {
      tags: ["open", "live", "held"],
      on: {
        "session.started": [{ guard: "waitingScreen", target: "Waiting", actions: "stamp" }, { target: "Idle", actions: "stamp" }],
        "session.rateLimited": { target: "Backoff", actions: ["stamp", "rateLimit"] },
        "session.died": { target: "Crashed", actions: ["stamp", "crash"] },
        "session.startFailed": { target: "Failed", actions: "stamp" },
        "session.close": { target: "Closed", actions: "stamp" },
      },
    },
    Idle: { tags: [...OPEN_LIVE], after: stuckTimer, on: { ...liveTransitions("Idle"), "session.startFailed": "Failed", "session.close": "Closed" } },
    Running: {
      tags: [...OPEN_LIVE],
      after: { idle: { guard: "settling", target: "Idle" }, ...stuckTimer },
      on: { ...liveTransitions("Running"), "session.startFailed": "Failed", "session.close": "Closed" },
    },
    Waiting: { tags: [...OPEN_LIVE], after: stuckTimer, on: { ...liveTransitions("Waiting"), "session.startFailed": "Failed", "session.close": "Closed" } },
    Stuck: {
      tags: [...OPEN_LIVE, "held", "recoverable", "recovering"],
      on: {
        "session.observed": screenTransitions("Stuck"),
        "session.rateLimited": { target: "Backoff", actions: ["stamp", "rateLimit"] },
        "session.died": { target: "Crashed", actions: ["stamp", "crash"] },
        "session.restart": [{ guard: "exhausted", target: "Failed", actions: "stamp" }, { target: "Restarting", actions: "stamp" }],
        "session.close": "Closed",
      },
    },
    Backoff: {
      tags: ["open", "live", "observed", "clocked"],
      after: { backoff: { target: "Idle", actions: "clearBackoff" } },
      on: {
        "session.checked": { target: "Backoff", reenter: true, actions: "stamp" },
        "session.died": { target: "Crashed", actions: ["stamp", "crash"] },
        "session.close": "Closed",
      },
    },
    Crashed: {
      tags: ["open", "held", "recoverable", "recovering"],
      on: {
        "session.restart": [{ guard: "exhausted", target: "Failed", actions: "stamp" }, { guard: "cooled", target: "Restarting", actions: "stamp" }],
        "session.close": "Closed",
      },
    },
    Restarting: {
      tags: ["open", "held", "recovering"],
      on: {
        "session.restarted": { target: "Idle", actions: ["stamp", "countRestart", "clearBackoff"] },
        "session.restartFailed": { target: "Crashed", actions: ["stamp", "countRestart", "crash"] },
        "session.close": "Closed",
      },
    },
    Failed: { type: "final" },
    Closed: { type: "final" },
  },
});
