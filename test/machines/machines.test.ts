import { expect, test } from "vitest";
import { createActor, fromPromise, initialTransition, transition, waitFor } from "xstate";
import { stageMachine, stagePhaseOf, type StageFacts } from "../../controller/machines/stage.machine.js";
import { taskMachine, type MergeOutcome, type TaskFacts } from "../../controller/machines/task.machine.js";

const base: StageFacts = {
  needsPassed: true,
  feasible: true,
  approvalRequired: true,
  approval: "pending",
  planDigest: "d1",
  tasks: { total: 2, merged: 0, failed: 0, pastWork: 0 },
  paused: false,
};

/** Sends the same facts until the stage stops moving (what one controller pass does). */
function settle(snapshot: ReturnType<typeof initialTransition<typeof stageMachine>>[0], facts: StageFacts) {
  let current = snapshot;
  for (let i = 0; i < 10; i++) {
    const [next] = transition(stageMachine, current, { type: "stage.observed", facts });
    if (JSON.stringify(next.value) === JSON.stringify(current.value) && JSON.stringify(next.context) === JSON.stringify(current.context)) return next;
    current = next;
  }
  throw new Error("stage did not settle");
}

test("a stage with needs waits in AwaitingApproval until approval is granted, then runs, gates and passes", () => {
  const [start] = initialTransition(stageMachine, { name: "build" });
  expect(stagePhaseOf(start.value)).toBe("Pending");
  expect(stagePhaseOf(settle(start, { ...base, needsPassed: false }).value)).toBe("Pending");
  const waiting = settle(start, base);
  expect(stagePhaseOf(waiting.value)).toBe("AwaitingApproval");
  expect(stagePhaseOf(settle(waiting, base).value)).toBe("AwaitingApproval");
  const running = settle(waiting, { ...base, approval: "granted" });
  expect(stagePhaseOf(running.value)).toBe("Running");
  const gating = settle(running, { ...base, approval: "granted", tasks: { total: 2, merged: 1, failed: 0, pastWork: 2 } });
  expect(stagePhaseOf(gating.value)).toBe("Gating");
  expect(stagePhaseOf(settle(gating, { ...base, approval: "granted", tasks: { total: 2, merged: 2, failed: 0, pastWork: 2 } }).value)).toBe("Passed");
});

test("a stage without required approval runs as soon as its needs passed", () => {
  const [start] = initialTransition(stageMachine, { name: "plan" });
  expect(stagePhaseOf(settle(start, { ...base, approvalRequired: false }).value)).toBe("Running");
});

test("a new plan digest while awaiting approval re-proposes; a rejection fails the stage", () => {
  const [start] = initialTransition(stageMachine, { name: "build" });
  const waiting = settle(start, base);
  const replanned = settle(waiting, { ...base, planDigest: "d2" });
  expect(stagePhaseOf(replanned.value)).toBe("AwaitingApproval");
  expect(replanned.context.planDigest).toBe("d2");
  const failed = settle(replanned, { ...base, planDigest: "d2", approval: "rejected" });
  expect(stagePhaseOf(failed.value)).toBe("Failed");
  expect(failed.context.reason).toBe("the plan was rejected by an approver");
});

test("an infeasible allocation blocks the stage until capacity is there", () => {
  const [start] = initialTransition(stageMachine, { name: "build" });
  const blocked = settle(start, { ...base, feasible: false });
  expect(stagePhaseOf(blocked.value)).toBe("Blocked");
  expect(stagePhaseOf(settle(blocked, base).value)).toBe("AwaitingApproval");
});

test("pausing keeps the stage's place; resuming returns to it; a passed stage cannot be paused", () => {
  const [start] = initialTransition(stageMachine, { name: "build" });
  const running = settle(start, { ...base, approval: "granted" });
  const paused = settle(running, { ...base, approval: "granted", paused: true });
  expect(stagePhaseOf(paused.value)).toBe("Paused");
  expect(stagePhaseOf(settle(paused, { ...base, approval: "granted" }).value)).toBe("Running");
  const passed = settle(running, { ...base, approval: "granted", tasks: { total: 2, merged: 2, failed: 0, pastWork: 2 } });
  expect(stagePhaseOf(settle(passed, { ...base, paused: true, tasks: { total: 2, merged: 2, failed: 0, pastWork: 2 } }).value)).toBe("Passed");
});

test("level-triggered results: a task added to a Passed stage re-proposes it under the new digest; a retried task reopens a Failed stage", () => {
  const [start] = initialTransition(stageMachine, { name: "build" });
  const granted = { ...base, approval: "granted" as const };
  const passed = settle(settle(start, granted), { ...granted, tasks: { total: 2, merged: 2, failed: 0, pastWork: 2 } });
  expect(stagePhaseOf(passed.value)).toBe("Passed");
  // A third task arrives: the old approval was for d1, the new plan d2 is pending.
  const reopened = settle(passed, { ...base, planDigest: "d2", tasks: { total: 3, merged: 2, failed: 0, pastWork: 2 } });
  expect(stagePhaseOf(reopened.value)).toBe("AwaitingApproval");
  expect(reopened.context.planDigest).toBe("d2");
  expect(stagePhaseOf(settle(reopened, { ...granted, planDigest: "d2", tasks: { total: 3, merged: 3, failed: 0, pastWork: 3 } }).value)).toBe("Passed");

  const failed = settle(settle(start, granted), { ...granted, tasks: { total: 2, merged: 1, failed: 1, pastWork: 1 } });
  expect(stagePhaseOf(failed.value)).toBe("Failed");
  expect(failed.context.reason).toBe("1 task(s) failed");
  // One of two failed tasks retried: Running while it works, Failed again when it settled and the other is still Failed.
  const retrying = settle(failed, { ...granted, tasks: { total: 2, merged: 0, failed: 1, pastWork: 0, retrying: 1 } });
  expect(stagePhaseOf(retrying.value)).toBe("Running");
  expect(retrying.context.reason).toBeNull();
  expect(stagePhaseOf(settle(retrying, { ...granted, tasks: { total: 2, merged: 1, failed: 1, pastWork: 1, retrying: 0 } }).value)).toBe("Failed");
  // A rejected plan stays Failed whatever is retried.
  const rejected = settle(settle(start, base), { ...base, approval: "rejected" });
  expect(stagePhaseOf(settle(rejected, { ...base, approval: "rejected", tasks: { total: 2, merged: 0, failed: 0, pastWork: 0, retrying: 1 } }).value)).toBe("Failed");
});

const go: TaskFacts = { stageRunning: true, depsMerged: true, paused: false };

test("a task waits for its stage and dependencies, then provisions", () => {
  const [start] = initialTransition(taskMachine, { name: "t", maxGateAttempts: 2, maxResolveAttempts: 1 });
  expect(transition(taskMachine, start, { type: "task.observed", facts: { ...go, depsMerged: false } })[0].value).toBe("Pending");
  expect(transition(taskMachine, start, { type: "task.observed", facts: { ...go, stageRunning: false } })[0].value).toBe("Pending");
  const [next, actions] = transition(taskMachine, start, { type: "task.observed", facts: go });
  expect(next.value).toBe("Provisioning");
  expect(actions.map((a) => a.type)).toContain("xstate.spawnChild");
});

/** Stand-in effects through `provide`: each records its calls and answers from a script. */
function scripted(outcomes: { gate: boolean[]; merge: ("merged" | "conflict")[] }) {
  const calls: string[] = [];
  const machine = taskMachine.provide({
    actors: {
      provisionWorktree: fromPromise(async ({ input }) => (calls.push(`provision:${input.attempt}`), { path: "/w", branch: "b" })),
      runAgent: fromPromise(async ({ input }) => (calls.push(`agent:${input.attempt}:${input.feedback ?? "-"}`), { summary: "ok" })),
      commitWork: fromPromise(async ({ input }) => (calls.push(`commit:${input.attempt}`), { sha: "abc" })),
      runGate: fromPromise(async () => {
        const passed = outcomes.gate.shift() ?? true;
        calls.push(`gate:${passed}`);
        return { passed, summary: passed ? "" : "test failed: expected 2, got 3" };
      }),
      mergeBranch: fromPromise(async (): Promise<MergeOutcome> => {
        const result = outcomes.merge.shift() ?? "merged";
        calls.push(`merge:${result}`);
        return result === "merged" ? { result, sha: "def" } : { result, files: ["src/a.ts"] };
      }),
      resolveConflict: fromPromise(async ({ input }) => (calls.push(`resolve:${input.conflictedFiles.join(",")}`), { summary: "resolved" })),
    },
  });
  return { machine, calls };
}

test("a failed gate sends the failure back to the agent; a conflict is resolved and re-merged", async () => {
  const { machine, calls } = scripted({ gate: [false, true], merge: ["conflict", "merged"] });
  const actor = createActor(machine, { input: { name: "t", maxGateAttempts: 3, maxResolveAttempts: 2 } }).start();
  actor.send({ type: "task.observed", facts: go });
  const done = await waitFor(actor, (s) => s.status === "done");
  expect(done.value).toBe("Merged");
  expect(calls).toEqual(["provision:1", "agent:1:-", "commit:1", "gate:false", "agent:2:test failed: expected 2, got 3", "commit:2", "gate:true", "merge:conflict", "resolve:src/a.ts", "merge:merged"]);
});

test("gates failing maxGateAttempts times fail the task with the evidence", async () => {
  const { machine } = scripted({ gate: [false, false], merge: [] });
  const actor = createActor(machine, { input: { name: "t", maxGateAttempts: 2, maxResolveAttempts: 1 } }).start();
  actor.send({ type: "task.observed", facts: go });
  const done = await waitFor(actor, (s) => s.status === "done");
  expect(done.value).toBe("Failed");
  expect(done.context.reason).toBe("gate failed 2 time(s): test failed: expected 2, got 3");
});

test("a persisted snapshot restored after a crash re-runs the effect of its state, not earlier ones", async () => {
  const { machine, calls } = scripted({ gate: [true], merge: ["merged"] });
  // First controller: its commit never finishes (killed mid-effect).
  const stalled = machine.provide({ actors: { commitWork: fromPromise(() => new Promise<{ sha: string | null }>(() => undefined)) } });
  const first = createActor(stalled, { input: { name: "t", maxGateAttempts: 2, maxResolveAttempts: 1 } }).start();
  first.send({ type: "task.observed", facts: go });
  await waitFor(first, (s) => s.value === "Committing");
  const persisted = JSON.parse(JSON.stringify(first.getPersistedSnapshot()));
  first.stop();
  calls.length = 0;
  // Restarted controller: restores the snapshot; only Committing's effect and what follows run.
  const second = createActor(machine, { snapshot: persisted, input: { name: "t", maxGateAttempts: 2, maxResolveAttempts: 1 } }).start();
  expect((await waitFor(second, (s) => s.status === "done")).value).toBe("Merged");
  expect(calls).toEqual(["commit:1", "gate:true", "merge:merged"]);
});
