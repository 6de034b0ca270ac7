import { join } from "node:path";
import { expect, test } from "vitest";
import { fitLine, formatStatusView, wrapWords } from "../../controller/cli/status.command.js";
import { loadManifestSet } from "../../controller/manifest/load.js";
import { gateCell } from "../../controller/status/status-view.js";
import { blockedWork, dependencyDeadlocks } from "../../controller/status/waiting-for.js";
import { runGaffer } from "../helpers/cli.js";
import { flowFixture } from "../helpers/flow-fixture.js";

test("status with no controller says so in the header and in what it waits for", async () => {
  const { dir } = flowFixture();
  const result = await runGaffer(["status", "--dir", dir]);
  expect(result.exitCode).toBe(0);
  const lines = result.stdout.split("\n");
  expect(lines[0]).toBe("controller: not running");
  // No worktreeRoot in the fixture: the default, beside the target repo.
  expect(lines[1]).toBe(`worktrees: ${join(dir, "../target.gaffer-worktrees")}`);
  expect(result.stdout).toContain(`  - no controller runs for this control dir (\`gaffer up\` is not running): start one with \`gaffer up --dir ${dir}\``);
  const json = JSON.parse((await runGaffer(["status", "--dir", dir, "--json"])).stdout) as { controller: { running: boolean; phase: string } };
  expect(json.controller).toMatchObject({ running: false, phase: "Stopped" });
}, 120_000);

test("waiting for: Failed stages and tasks with the exact retry command, a task held by a Failed dependency, Stalled tasks, cross-stage deadlocks", async () => {
  const { dir } = flowFixture({ buildTasks: { "add-a": "write a.txt <<<a", "add-b": "write b.txt <<<b" } });
  const loaded = await loadManifestSet(dir);
  const set = { ...loaded, tasks: loaded.tasks.map((t) => (t.metadata.name === "add-b" ? { ...t, spec: { ...t.spec, dependsOn: ["add-a"] } } : t.metadata.name === "write-plan" ? { ...t, spec: { ...t.spec, dependsOn: ["add-a"] } } : t)) };
  const tasks = [
    { name: "write-plan", stage: "plan", phase: "Pending", reason: null, stalled: null },
    { name: "add-a", stage: "build", phase: "Failed", reason: "gate failed 3 time(s): $ npm test (exit 1)\nnot ok 1", stalled: null },
    { name: "add-b", stage: "build", phase: "Pending", reason: null, stalled: null },
  ];
  expect(blockedWork({ set, dir, tasks, stages: new Map([["plan", "Running"], ["build", "Failed"]]) })).toEqual([
    `stage build is Failed (add-a failed): \`gaffer retry build --dir ${dir}\` starts a new attempt of every failed task`,
    `task write-plan waits for task add-a, which is Failed: \`gaffer retry add-a --dir ${dir}\``,
    `task add-a is Failed (gate failed 3 time(s): $ npm test (exit 1)): retry it with \`gaffer retry add-a --dir ${dir}\``,
    `task add-b waits for task add-a, which is Failed: \`gaffer retry add-a --dir ${dir}\``,
  ]);
  expect(blockedWork({ set, dir, tasks: [{ name: "add-a", stage: "build", phase: "Working", reason: null, stalled: "NeedsTrust: the agent asks to trust the folder" }], stages: new Map() })).toEqual(["task add-a is Stalled: NeedsTrust: the agent asks to trust the folder"]);
  expect(dependencyDeadlocks(set, dir)).toEqual([
    `deadlock: task write-plan (stage plan) depends on task add-a of stage build, which needs stage plan to pass first: neither can start; drop the dependsOn or move one task (\`gaffer validate --dir ${dir}\`)`,
  ]);
  expect(dependencyDeadlocks(loaded, dir)).toEqual([]);
}, 60_000);

test("gate column: running, passed, failed; an attempt count only for real rounds", () => {
  expect(gateCell([], {})).toBe("-");
  expect(gateCell([{ state: "passed" }, { state: "running" }], { attempt: 1 })).toBe("running");
  expect(gateCell([{ state: "passed" }], { attempt: 1 })).toBe("passed");
  expect(gateCell([{ state: "passed" }, { state: "failed" }], { attempt: 2 })).toBe("failed (attempt 2)");
  expect(gateCell([{ state: "passed" }], { attempt: 1, round: 1 })).toBe("passed (retry 1)");
});

test("long notes are cut and waiting-for lines wrapped at word boundaries, never mid-word", () => {
  expect(fitLine("build  Failed  the plan was rejected by an approver", 30)).toBe("build  Failed  the plan was…");
  expect(wrapWords("  - approval of stage build: an approver runs gaffer approve", 24, "    ")).toEqual(["  - approval of stage", "    build: an approver", "    runs gaffer approve"]);
  const view = {
    controller: { running: true, pid: 42, phase: "Reconciling", appliedRevision: null, sourceDirty: false, manifestErrors: [] },
    worktreeRoot: "/some/target.gaffer-worktrees",
    stages: [{ name: "build", phase: "Failed", approval: "Granted", tasks: "0/1 merged", message: "1 task(s) failed after the gate refused the change three times in a row" }],
    tasks: [],
    pendingApprovals: [],
    waitingFor: ["task add-a is Failed (gate failed): retry it with `gaffer retry add-a --dir /some/control/dir`"],
  };
  const text = formatStatusView(view, 60);
  expect(text.split("\n")[0]).toBe("controller: running (pid 42), Reconciling");
  for (const line of text.split("\n")) expect(line.length).toBeLessThanOrEqual(60);
  expect(text).toContain("build  Failed  Granted   0/1 merged  1 task(s) failed…\n");
  expect(text).toContain("  - task add-a is Failed (gate failed): retry it with\n    `gaffer retry add-a --dir /some/control/dir`");
});
