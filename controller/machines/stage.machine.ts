import { and, assign, not, or, setup, stateIn } from "xstate";

/** What the controller observed about a stage on one pass. Sent as `stage.observed`. */
export interface StageFacts {
  /** Every stage in `needs` has Passed. */
  readonly needsPassed: boolean;
  /** The allocation plan staffs every role (else Blocked). */
  readonly feasible: boolean;
  /** A committed approval is required before the stage may start. */
  readonly approvalRequired: boolean;
  /** Outcome of the committed approvals for the current plan digest. */
  readonly approval: "granted" | "pending" | "rejected";
  /** Digest of the current proposal (a new digest makes old approvals stale). */
  readonly planDigest: string;
  /** Tasks of this stage, by phase. */
  readonly tasks: {
    readonly total: number;
    readonly merged: number;
    readonly failed: number;
    readonly pastWork: number;
    /** Tasks in a retry round (`gaffer retry`) that have not settled yet: they keep or reopen the stage Running. */
    readonly retrying?: number;
  };
  /** Stage or project paused (human takeover). */
  readonly paused: boolean;
}

export type StagePhase = "Pending" | "Proposed" | "AwaitingApproval" | "Running" | "Gating" | "Passed" | "Failed" | "Blocked" | "Paused";

export interface StageContext {
  readonly name: string;
  readonly planDigest: string | null;
  /** Why the stage is Failed or Blocked. */
  readonly reason: string | null;
}

export type StageEvent = { readonly type: "stage.observed"; readonly facts: StageFacts };

type Guard = (args: { event: StageEvent }) => boolean;
const facts = (event: StageEvent): StageFacts => event.facts;
const isPaused: Guard = ({ event }) => facts(event).paused;
const needsPassed: Guard = ({ event }) => facts(event).needsPassed;
const infeasible: Guard = ({ event }) => !facts(event).feasible;
const approved: Guard = ({ event }) => !facts(event).approvalRequired || facts(event).approval === "granted";
const rejected: Guard = ({ event }) => facts(event).approvalRequired && facts(event).approval === "rejected";
const anyTaskFailed: Guard = ({ event }) => facts(event).tasks.failed > 0;
const retrying: Guard = ({ event }) => (facts(event).tasks.retrying ?? 0) > 0;
/** A task failed and no retried task is still under way. */
const failedSettled: Guard = ({ event }) => anyTaskFailed({ event }) && !retrying({ event });
const allMerged: Guard = ({ event }) => facts(event).tasks.merged === facts(event).tasks.total;
const allPastWork: Guard = ({ event }) => facts(event).tasks.pastWork === facts(event).tasks.total;

/**
 * A stage: Pending -> Proposed -> AwaitingApproval -> Running -> Gating ->
 * Passed | Failed, with Blocked (allocation) and Paused. Pure and fact-driven:
 * each controller pass sends `stage.observed` with what it saw, so sending the
 * same facts twice changes nothing (level-triggered).
 */
export const stageMachine = setup({
  types: {
    context: {} as StageContext,
    events: {} as StageEvent,
    input: {} as { readonly name: string },
  },
  guards: {
    isPaused,
    needsPassed,
    infeasible,
    approved,
    rejected,
    anyTaskFailed,
    failedSettled,
    retrying,
    allMerged,
    allPastWork,
    digestChanged: ({ context, event }) => context.planDigest !== facts(event).planDigest,
  },
  actions: {
    rememberDigest: assign({ planDigest: ({ event }) => facts(event).planDigest }),
    blockedReason: assign({ reason: () => "allocation cannot staff every role; see the proposal's blocked roles" }),
    rejectedReason: assign({ reason: () => "the plan was rejected by an approver" }),
    taskFailedReason: assign({ reason: ({ event }) => `${facts(event).tasks.failed} task(s) failed` }),
    clearReason: assign({ reason: () => null }),
  },
}).createMachine({
  id: "stage",
  context: ({ input }) => ({ name: input.name, planDigest: null, reason: null }),
  initial: "Active",
  states: {
    Active: {
      initial: "Pending",
      // A finished stage stays finished: pausing applies to stages still under way.
      on: { "stage.observed": { guard: and(["isPaused", not(stateIn("#stage.Active.Passed")), not(stateIn("#stage.Active.Failed"))]), target: "Paused" } },
      states: {
        Pending: {
          on: { "stage.observed": { guard: "needsPassed", target: "Proposed", actions: "rememberDigest" } },
        },
        Proposed: {
          on: {
            "stage.observed": [
              { guard: "infeasible", target: "Blocked", actions: "blockedReason" },
              { guard: "approved", target: "Running", actions: ["rememberDigest", "clearReason"] },
              { target: "AwaitingApproval", actions: "rememberDigest" },
            ],
          },
        },
        Blocked: {
          on: { "stage.observed": { guard: ({ event }) => facts(event).feasible, target: "Proposed", actions: "clearReason" } },
        },
        AwaitingApproval: {
          on: {
            "stage.observed": [
              { guard: "rejected", target: "Failed", actions: "rejectedReason" },
              { guard: "digestChanged", target: "Proposed", actions: "rememberDigest", reenter: true },
              { guard: "infeasible", target: "Blocked", actions: "blockedReason" },
              { guard: "approved", target: "Running" },
            ],
          },
        },
        Running: {
          on: {
            "stage.observed": [
              { guard: "failedSettled", target: "Failed", actions: "taskFailedReason" },
              { guard: "allMerged", target: "Passed" },
              { guard: "allPastWork", target: "Gating" },
            ],
          },
        },
        Gating: {
          on: {
            "stage.observed": [
              { guard: "failedSettled", target: "Failed", actions: "taskFailedReason" },
              { guard: "allMerged", target: "Passed" },
            ],
          },
        },
        // Level-triggered results: a Passed stage whose applied set is no longer all Merged (a task was
        // added or changed) is proposed again; the new plan digest needs a new approval where one is required.
        Passed: {
          on: { "stage.observed": { guard: not("allMerged"), target: "Proposed", actions: ["rememberDigest", "clearReason"] } },
        },
        // A Failed stage reopens while a retried task works, or when no task is Failed any more, if its approval still holds,
        // or is proposed afresh when its plan changed; a rejection of the current plan keeps it Failed.
        Failed: {
          on: {
            "stage.observed": [
              { guard: "digestChanged", target: "Proposed", actions: ["rememberDigest", "clearReason"] },
              { guard: and([not("rejected"), or(["retrying", not("anyTaskFailed")]), "approved"]), target: "Running", actions: "clearReason" },
            ],
          },
        },
        History: { type: "history", history: "shallow" },
      },
    },
    Paused: {
      on: { "stage.observed": { guard: ({ event }) => !facts(event).paused, target: "Active.History" } },
    },
  },
});

/** The user-facing phase of a stage snapshot value (`{Active: "Running"}` -> Running). */
export function stagePhaseOf(value: unknown): StagePhase {
  if (value === "Paused") return "Paused";
  const inner = (value as { Active?: string }).Active;
  return (inner ?? "Pending") as StagePhase;
}
