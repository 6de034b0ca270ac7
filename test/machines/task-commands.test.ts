/**
 * The events a verb outside the controller's effects sends a task's machine
 * (a person's `gaffer merge` / `resolve`, a cancellation): the machine
 * decides the phase and counters, with the same attempt limits as its own
 * effects, and a final task refuses them.
 */
import { expect, test } from "vitest";
import { initialTransition, transition } from "xstate";
import { taskMachine, type TaskEvent } from "../../controller/machines/task.machine.js";
import { restoreTask } from "../../controller/tasks/task-store.js";

function run(events: readonly TaskEvent[], limits = { maxGateAttempts: 2, maxResolveAttempts: 1 }) {
  let [snapshot] = initialTransition(taskMachine, { name: "t", ...limits });
  for (const event of events) [snapshot] = transition(taskMachine, snapshot, event);
  return snapshot;
}

test("a person's merge moves any working task to Merging, then Merged; a settled task is final (the store sends it nothing)", () => {
  expect(run([{ type: "task.merge.started" }]).value).toBe("Merging");
  const merged = run([{ type: "task.merge.started" }, { type: "task.gate.ran" }, { type: "task.merged" }]);
  expect([merged.value, merged.status, merged.context.gateAttempts]).toEqual(["Merged", "done", 1]);
  expect(run([{ type: "task.cancelled" }]).status).toBe("done");
  // The store restores a row's snapshot this way and sends nothing to a final task.
  const restored = restoreTask({ name: "t", stage: "s", role: "r", phase: "Merged", gateAttempts: 1, resolveAttempts: 0, updatedAt: "", revision: 3, snapshot: { value: "Merged", context: merged.context } }, "t", { maxGateAttempts: 2, maxResolveAttempts: 1 });
  expect([restored.value, restored.status]).toEqual(["Merged", "done"]);
});

test("a failed merge sends the task back to Working with the failure as feedback, and Failed once policy.maxGateAttempts gates ran", () => {
  const once = run([{ type: "task.merge.started" }, { type: "task.gate.ran" }, { type: "task.merge.failed", feedback: "POLICY_GATE_REQUIRED: red" }]);
  expect([once.value, once.context.attempt, once.context.feedback]).toEqual(["Working", 2, "POLICY_GATE_REQUIRED: red"]);
  const twice = run([{ type: "task.merge.started" }, { type: "task.gate.ran" }, { type: "task.merge.failed", feedback: "a" }, { type: "task.merge.started" }, { type: "task.gate.ran" }, { type: "task.merge.failed", feedback: "b" }]);
  expect([twice.value, twice.context.reason]).toEqual(["Failed", "gate failed 2 time(s) (policy.maxGateAttempts)"]);
});

test("a person's conflict waits in Conflict for their resolve (no resolver agent is sent); once rounds run out the next conflict fails the task", () => {
  const conflict = run([{ type: "task.merge.started" }, { type: "task.conflicted", files: ["README.md"] }]);
  expect([conflict.value, conflict.context.resolveAttempts, conflict.context.conflictedFiles]).toEqual(["Conflict", 0, ["README.md"]]);
  const resolving = transition(taskMachine, conflict, { type: "task.resolve.started" })[0];
  expect([resolving.value, resolving.context.resolveAttempts]).toEqual(["Resolving", 1]);
  expect(transition(taskMachine, resolving, { type: "task.resolved" })[0].value).toBe("Merging");
  const again = transition(taskMachine, resolving, { type: "task.conflicted", files: ["README.md"] })[0];
  expect([again.value, again.context.reason]).toEqual(["Failed", "conflict in README.md not resolved after 1 attempt(s)"]);
});
