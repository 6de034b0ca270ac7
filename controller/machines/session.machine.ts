import { assign, setup } from "xstate";

export type SessionPhase = "Starting" | "Idle" | "Running" | "Waiting" | "Crashed" | "Restarting" | "Closed" | "Failed";

export interface SessionContext {
  readonly id: string;
  readonly maxRestarts: number;
  readonly restarts: number;
}

/** Status hints (from screen rules and stability) and lifecycle facts, dotted lowercase. */
export type SessionEvent =
  | { readonly type: "session.ready" }
  | { readonly type: "session.idle" }
  | { readonly type: "session.running" }
  | { readonly type: "session.waiting" }
  | { readonly type: "session.died" }
  | { readonly type: "session.restarted" }
  | { readonly type: "session.close" };

/**
 * A session: Starting -> Idle <-> Running -> Waiting | Crashed -> Restarting | Closed.
 * A crash restarts while `restarts < maxRestarts`, else the session is Failed.
 */
export const sessionMachine = setup({
  types: { context: {} as SessionContext, events: {} as SessionEvent, input: {} as { readonly id: string; readonly maxRestarts: number } },
  guards: { canRestart: ({ context }) => context.restarts < context.maxRestarts },
}).createMachine({
  id: "session",
  context: ({ input }) => ({ id: input.id, maxRestarts: input.maxRestarts, restarts: 0 }),
  initial: "Starting",
  on: { "session.close": ".Closed" },
  states: {
    Starting: { on: { "session.ready": "Idle", "session.idle": "Idle", "session.died": "Crashed" } },
    Idle: { on: { "session.running": "Running", "session.waiting": "Waiting", "session.died": "Crashed" } },
    Running: { on: { "session.idle": "Idle", "session.waiting": "Waiting", "session.died": "Crashed" } },
    Waiting: { on: { "session.running": "Running", "session.idle": "Idle", "session.died": "Crashed" } },
    Crashed: {
      always: [{ guard: "canRestart", target: "Restarting", actions: assign({ restarts: ({ context }) => context.restarts + 1 }) }, { target: "Failed" }],
    },
    Restarting: { on: { "session.restarted": "Starting", "session.died": "Crashed" } },
    Failed: { on: { "session.close": "Closed" } },
    Closed: { type: "final" },
  },
});
