import { initialTransition, transition } from "xstate";
import { expect, test } from "vitest";
import { taskSpecDigest } from "../../controller/core/plan-digest.js";
import type { ManifestSet, TaskManifest } from "../../controller/core/manifest-types.js";
import { taskMachine, type TaskContext } from "../../controller/machines/task.machine.js";
import { changedSettledTasks } from "../../controller/reconciler/task-lifecycle.js";

function task(name: string, prompt: string): TaskManifest {
  return { apiVersion: "gaffer/v1", kind: "Task", metadata: { name }, spec: { stage: "build", role: "builder", prompt } };
}

function context(name: string, extra: Partial<TaskContext>): TaskContext {
  return { name, maxGateAttempts: 3, maxResolveAttempts: 2, attempt: 1, gateAttempts: 1, resolveAttempts: 0, feedback: null, conflictedFiles: [], reason: null, round: 0, retryOf: null, ...extra };
}

test("a round binds the spec digest it starts work with; only a settled task whose spec changed since runs again", () => {
  const [start] = initialTransition(taskMachine, { name: "a", maxGateAttempts: 3, maxResolveAttempts: 2 });
  const facts = { stageRunning: true, depsMerged: true, paused: false };
  expect(transition(taskMachine, start, { type: "task.observed", facts: { ...facts, stageRunning: false, specDigest: "d1" } })[0].context.specDigest).toBeUndefined();
  const [working] = transition(taskMachine, start, { type: "task.observed", facts: { ...facts, specDigest: "d1" } });
  expect([working.value, working.context.specDigest]).toEqual(["Provisioning", "d1"]);

  const a = task("a", "write a.txt <<<alpha");
  const changed = task("b", "write b.txt <<<beta, second edition");
  const set = { tasks: [a, changed, task("c", "x"), task("d", "y"), task("e", "z")] } as unknown as ManifestSet;
  const snapshots = new Map<string, { value: string; context: TaskContext }>([
    ["a", { value: "Merged", context: context("a", { specDigest: taskSpecDigest(a) }) }],
    ["b", { value: "Merged", context: context("b", { specDigest: "0123456789abcdef", round: 2, retryOf: 7 }) }],
    ["c", { value: "Failed", context: context("c", { specDigest: "0123456789abcdef" }) }],
    // Still working: it finishes its round first.
    ["d", { value: "Working", context: context("d", { specDigest: "0123456789abcdef" }) }],
    // A snapshot from before rounds recorded their spec: left alone.
    ["e", { value: "Merged", context: context("e", {}) }],
  ]);
  expect(changedSettledTasks(set, (name) => snapshots.get(name))).toEqual([
    { task: "b", phase: "Merged", from: "0123456789abcdef", to: taskSpecDigest(changed), round: 2, retryOf: 7 },
    { task: "c", phase: "Failed", from: "0123456789abcdef", to: taskSpecDigest(task("c", "x")), round: 0, retryOf: null },
  ]);
});
