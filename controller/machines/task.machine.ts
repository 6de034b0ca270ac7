import { and, assign, fromPromise, not, setup, type PromiseActorLogic } from "xstate";

/** What the controller observed about a task's surroundings. Sent as `task.observed`. */
export interface TaskFacts {
  /** The task's stage is Running (approved, staffed). */
  readonly stageRunning: boolean;
  /** Every task in `dependsOn` is Merged. */
  readonly depsMerged: boolean;
  /** The task, its stage or the project is paused (human takeover). */
  readonly paused: boolean;
  /** Digest of the task's spec as the manifests say now (bound to the round when work starts). */
  readonly specDigest?: string;
}

export type TaskPhase = "Pending" | "Provisioning" | "Working" | "Committing" | "Gating" | "Merging" | "Merged" | "Conflict" | "Resolving" | "Failed" | "Paused" | "Cancelled";

export interface TaskContext {
  readonly name: string;
  readonly maxGateAttempts: number;
  readonly maxResolveAttempts: number;
  /** Work rounds so far (1 = first prompt; each failed gate adds one). */
  readonly attempt: number;
  readonly gateAttempts: number;
  readonly resolveAttempts: number;
  /** Failure output sent back to the agent on the next round. */
  readonly feedback: string | null;
  readonly conflictedFiles: readonly string[];
  readonly reason: string | null;
  /** Retry round (0 = the first run; `gaffer retry` starts round + 1 with fresh counters). */
  readonly round: number;
  /** Ledger event id of the retry request this round answers (null for round 0). */
  readonly retryOf: number | null;
  /** Digest of the spec this round works on, bound when it leaves Pending (absent in snapshots from before it existed). */
  readonly specDigest?: string | null;
  /** A conflict a person's `gaffer merge` found: it waits for their `gaffer resolve`, no resolver agent is sent. */
  readonly byHand?: boolean;
}

/** Input every effect gets: enough to be idempotent (keys derive from task + attempt). */
export interface EffectInput {
  readonly task: string;
  readonly attempt: number;
  readonly feedback: string | null;
  readonly conflictedFiles: readonly string[];
  readonly resolveAttempt: number;
  /** Retry round: keys of a new round never collide with an earlier round's (done) work. */
  readonly round: number;
}

/** What a task actor starts from: its name and policy limits, and for a retry the round it opens. */
export interface TaskInput {
  readonly name: string;
  readonly maxGateAttempts: number;
  readonly maxResolveAttempts: number;
  readonly round?: number;
  readonly retryOf?: number | null;
}

export interface GateOutcome {
  readonly passed: boolean;
  /** Failure output (command tails, review findings) for the agent. */
  readonly summary: string;
}

export type MergeOutcome =
  | { readonly result: "merged"; readonly sha: string }
  | { readonly result: "conflict"; readonly files: readonly string[] }
  | { readonly result: "gate-failed"; readonly summary: string };

/**
 * What a verb acting on a task outside the controller's effects (a person's
 * `gaffer merge` / `gaffer resolve`, the MCP tools, the controller cancelling
 * a removed task) tells the task's machine, through the task store
 * (controller/tasks/task-store.ts). Accepted in every state but a final one.
 */
export type TaskCommand =
  | { readonly type: "task.merge.started" }
  | { readonly type: "task.gate.ran" }
  | { readonly type: "task.merged" }
  | { readonly type: "task.merge.failed"; readonly feedback: string }
  | { readonly type: "task.conflicted"; readonly files: readonly string[] }
  | { readonly type: "task.resolve.started" }
  | { readonly type: "task.resolved" }
  | { readonly type: "task.cancelled" };

export type TaskEvent = { readonly type: "task.observed"; readonly facts: TaskFacts } | TaskCommand;

/** The named effects a task invokes; the controller provides real ones (`machine.provide`). */
export interface TaskEffects {
  provisionWorktree: PromiseActorLogic<{ readonly path: string; readonly branch: string }, EffectInput>;
  runAgent: PromiseActorLogic<{ readonly summary: string }, EffectInput>;
  commitWork: PromiseActorLogic<{ readonly sha: string | null }, EffectInput>;
  runGate: PromiseActorLogic<GateOutcome, EffectInput>;
  mergeBranch: PromiseActorLogic<MergeOutcome, EffectInput>;
  resolveConflict: PromiseActorLogic<{ readonly summary: string }, EffectInput>;
}

function unprovided<T>(): PromiseActorLogic<T, EffectInput> {
  return fromPromise<T, EffectInput>(async () => {
    throw new Error("effect not provided: the controller must provide every task effect");
  });
}

const TASK_EFFECTS: TaskEffects = {
  provisionWorktree: unprovided(),
  runAgent: unprovided(),
  commitWork: unprovided(),
  runGate: unprovided(),
  mergeBranch: unprovided(),
  resolveConflict: unprovided(),
};

const input = ({ context }: { context: TaskContext }): EffectInput => ({
  task: context.name,
  attempt: context.attempt,
  feedback: context.feedback,
  conflictedFiles: context.conflictedFiles,
  resolveAttempt: context.resolveAttempts,
  round: context.round,
});

/**
 * The attempt limits, in one place: the task machine's guards and the
 * CLI/MCP verbs that act on a task (`gaffer merge`, `resolve`) both ask
 * these. `used` attempts of `max` (policy.maxGateAttempts or
 * policy.maxResolveAttempts) leave none once `used >= max`.
 */
export function attemptsExhausted(used: number, max: number): boolean {
  return used >= max;
}

const errorText = (error: unknown): string => (error instanceof Error ? `${(error as { code?: string }).code ?? error.name}: ${error.message}` : String(error));

/**
 * A task: Pending -> Provisioning -> Working -> Committing -> Gating ->
 * Merging -> Merged, with Conflict -> Resolving, Failed and Paused. Each
 * working state invokes one named, idempotent effect; a restarted controller
 * restores the persisted snapshot and the effect of the current state runs
 * again, finding its own earlier work by idempotency key.
 */
export const taskMachine = setup({
  types: {
    context: {} as TaskContext,
    events: {} as TaskEvent,
    input: {} as TaskInput,
  },
  actors: { ...TASK_EFFECTS },
  guards: {
    canStart: ({ event }) => event.type === "task.observed" && event.facts.stageRunning && event.facts.depsMerged && !event.facts.paused,
    isPaused: ({ event }) => event.type === "task.observed" && event.facts.paused,
    isResumed: ({ event }) => event.type === "task.observed" && !event.facts.paused,
    gateAttemptsLeft: ({ context }) => !attemptsExhausted(context.gateAttempts, context.maxGateAttempts),
    isByHand: ({ context }) => context.byHand === true,
    resolveAttemptsLeft: ({ context }) => !attemptsExhausted(context.resolveAttempts, context.maxResolveAttempts),
  },
}).createMachine({
  id: "task",
  context: ({ input: i }) => ({ name: i.name, maxGateAttempts: i.maxGateAttempts, maxResolveAttempts: i.maxResolveAttempts, attempt: 1, gateAttempts: 0, resolveAttempts: 0, feedback: null, conflictedFiles: [], reason: null, round: i.round ?? 0, retryOf: i.retryOf ?? null }),
  initial: "Pending",
  on: {
    "task.merge.started": { target: ".Merging" },
    "task.gate.ran": { actions: assign({ gateAttempts: ({ context }) => context.gateAttempts + 1 }) },
    "task.merged": { target: ".Merged" },
    "task.merge.failed": [
      { guard: "gateAttemptsLeft", target: ".Working", actions: assign({ attempt: ({ context }) => context.attempt + 1, feedback: ({ event }) => event.feedback }) },
      { target: ".Failed", actions: assign({ reason: ({ context }) => `gate failed ${context.gateAttempts} time(s) (policy.maxGateAttempts)` }) },
    ],
    "task.conflicted": [
      { guard: "resolveAttemptsLeft", target: ".Conflict", actions: assign({ conflictedFiles: ({ event }) => event.files, byHand: () => true }) },
      { target: ".Failed", actions: assign({ conflictedFiles: ({ event }) => event.files, reason: ({ context, event }) => `conflict in ${event.files.join(", ")} not resolved after ${context.resolveAttempts} attempt(s)` }) },
    ],
    "task.resolve.started": { target: ".Resolving", actions: assign({ resolveAttempts: ({ context }) => context.resolveAttempts + 1 }) },
    "task.resolved": { target: ".Merging", actions: assign({ byHand: () => false }) },
    "task.cancelled": { target: ".Cancelled" },
  },
  states: {
    Pending: { on: { "task.observed": { guard: "canStart", target: "Provisioning", actions: assign({ specDigest: ({ event }) => (event.type === "task.observed" ? (event.facts.specDigest ?? null) : null) }) } } },
    Provisioning: {
      on: { "task.observed": { guard: "isPaused", target: "Paused" } },
      invoke: { src: "provisionWorktree", input, onDone: "Working", onError: { target: "Failed", actions: assign({ reason: ({ event }) => `provisioning failed: ${errorText(event.error)}` }) } },
    },
    Working: {
      on: { "task.observed": { guard: "isPaused", target: "Paused" } },
      invoke: { src: "runAgent", input, onDone: "Committing", onError: { target: "Failed", actions: assign({ reason: ({ event }) => `agent failed: ${errorText(event.error)}` }) } },
    },
    Committing: {
      invoke: { src: "commitWork", input, onDone: "Gating", onError: { target: "Failed", actions: assign({ reason: ({ event }) => `commit refused: ${errorText(event.error)}` }) } },
    },
    Gating: {
      invoke: {
        src: "runGate",
        input,
        onDone: [
          { guard: ({ event }) => event.output.passed, target: "Merging", actions: assign({ gateAttempts: ({ context }) => context.gateAttempts + 1, feedback: () => null }) },
          { guard: ({ context }) => !attemptsExhausted(context.gateAttempts + 1, context.maxGateAttempts), target: "Working", actions: assign({ gateAttempts: ({ context }) => context.gateAttempts + 1, attempt: ({ context }) => context.attempt + 1, feedback: ({ event }) => event.output.summary }) },
          { target: "Failed", actions: assign({ gateAttempts: ({ context }) => context.gateAttempts + 1, reason: ({ event, context }) => `gate failed ${context.gateAttempts + 1} time(s): ${event.output.summary}` }) },
        ],
        onError: { target: "Failed", actions: assign({ reason: ({ event }) => `gate could not run: ${errorText(event.error)}` }) },
      },
    },
    Merging: {
      invoke: {
        src: "mergeBranch",
        input,
        onDone: [
          { guard: ({ event }) => event.output.result === "merged", target: "Merged" },
          { guard: ({ event }) => event.output.result === "conflict", target: "Conflict", actions: assign({ conflictedFiles: ({ event }) => (event.output.result === "conflict" ? event.output.files : []) }) },
          { guard: ({ context }) => !attemptsExhausted(context.gateAttempts, context.maxGateAttempts), target: "Working", actions: assign({ attempt: ({ context }) => context.attempt + 1, gateAttempts: ({ context }) => context.gateAttempts + 1, feedback: ({ event }) => (event.output.result === "gate-failed" ? event.output.summary : null) }) },
          { target: "Failed", actions: assign({ reason: () => "the gate failed on the updated branch too many times" }) },
        ],
        onError: { target: "Failed", actions: assign({ reason: ({ event }) => `merge failed: ${errorText(event.error)}` }) },
      },
    },
    Conflict: {
      // A person's conflict waits for their `gaffer resolve` (task.resolve.started).
      always: [
        { guard: and([not("isByHand"), "resolveAttemptsLeft"]), target: "Resolving", actions: assign({ resolveAttempts: ({ context }) => context.resolveAttempts + 1 }) },
        { guard: not("isByHand"), target: "Failed", actions: assign({ reason: ({ context }) => `conflict in ${context.conflictedFiles.join(", ")} not resolved after ${context.resolveAttempts} attempt(s)` }) },
      ],
    },
    Resolving: {
      on: { "task.observed": { guard: "isPaused", target: "Paused" } },
      invoke: { src: "resolveConflict", input, onDone: "Merging", onError: { target: "Conflict" } },
    },
    Merged: { type: "final" },
    Failed: { type: "final" },
    Cancelled: { type: "final" },
    Paused: { on: { "task.observed": { guard: "isResumed", target: "Pending" } } },
  },
});
