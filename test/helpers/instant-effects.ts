import { fromPromise } from "xstate";
import type { EffectInput, GateOutcome, MergeOutcome, TaskEffects } from "../../controller/machines/task.machine.js";

/** Stand-in task effects: every step succeeds at once (for tests about the ledger or status, not the agents). */
export function instantEffects(): TaskEffects {
  return {
    provisionWorktree: fromPromise<{ path: string; branch: string }, EffectInput>(async () => ({ path: "/w", branch: "b" })),
    runAgent: fromPromise<{ summary: string }, EffectInput>(async () => ({ summary: "" })),
    commitWork: fromPromise<{ sha: string | null }, EffectInput>(async () => ({ sha: null })),
    runGate: fromPromise<GateOutcome, EffectInput>(async () => ({ passed: true, summary: "" })),
    mergeBranch: fromPromise<MergeOutcome, EffectInput>(async () => ({ result: "merged" as const, sha: "abc" })),
    resolveConflict: fromPromise<{ summary: string }, EffectInput>(async () => ({ summary: "" })),
  };
}
