import { readFileSync } from "node:fs";
import { join } from "node:path";
import pino from "pino";
import { expect, test } from "vitest";
import { runController } from "../../controller/reconciler/run-controller.js";
import { buildTaskEffects } from "../../controller/reconciler/task-effects.js";
import { listEvents } from "../../state/events.repository.js";
import { openLedger } from "../../state/ledger.js";
import { runGaffer } from "../helpers/cli.js";
import { git } from "../helpers/git-repo.js";
import { APPROVER, flowFixture } from "../helpers/flow-fixture.js";

const logger = pino({ level: process.env.GAFFER_TEST_LOG ?? "silent" });

test("end to end with the scripted agent: plan runs, build waits for a committed approval, then 3 tasks run in parallel within capacity and merge through the queue", async () => {
  const { dir, target } = flowFixture({
    capacity: 2,
    buildTasks: {
      "add-a": "write a.txt <<<alpha\nsleep 300\ncommit feat(add-a): add a",
      "add-b": "write b.txt <<<beta\nsleep 300\ncommit feat(add-b): add b",
      "add-c": "write c.txt <<<gamma\nsleep 300\ncommit feat(add-c): add c",
    },
  });
  await runController({ dir, logger, effects: buildTaskEffects, once: true });
  const db = await openLedger(join(dir, ".gaffer/ledger.sqlite"));
  try {
    const stages = async () => Object.fromEntries((await db.selectFrom("stages").select(["name", "phase"]).execute()).map((s) => [s.name, s.phase]));
    expect(await stages()).toEqual({ plan: "Passed", build: "AwaitingApproval" });
    expect(git(target, "show", "main:PLAN.md")).toBe("plan: build the tasks");
    expect(await db.selectFrom("sessions").select("id").where("task", "like", "add-%").execute()).toEqual([]);

    const approve = await runGaffer(["approve", "build", "--dir", dir, "--comment", "looks right"], { env: { GIT_AUTHOR_EMAIL: APPROVER, GIT_COMMITTER_EMAIL: APPROVER } });
    expect(approve.stderr).toBe("");
    expect(approve.exitCode).toBe(0);
    await runController({ dir, logger, effects: buildTaskEffects, once: true });
    expect(await stages()).toEqual({ plan: "Passed", build: "Passed" });
    expect(git(target, "ls-tree", "--name-only", "main").split("\n").sort()).toEqual(["PLAN.md", "README.md", "a.txt", "app.txt", "b.txt", "c.txt"]);

    // Capacity 2 was never exceeded, and two sessions did run at once.
    let held = 0;
    let max = 0;
    for (const e of await listEvents(db)) {
      if (e.action === "CapacityReserved") held++;
      if (e.action === "CapacityReleased") held--;
      max = Math.max(max, held);
    }
    expect(max).toBe(2);
    expect(held).toBe(0);
    const commands = await db.selectFrom("commands").select(["state"]).execute();
    expect(commands.length).toBe(4);
    expect(commands.every((c) => c.state === "done")).toBe(true);
    const merges = await db.selectFrom("merges").select(["task", "state"]).orderBy("id").execute();
    expect(merges.filter((m) => m.state === "merged").map((m) => m.task).sort()).toEqual(["add-a", "add-b", "add-c", "write-plan"]);
    // Project memory: the planner's output, the approval with its comment, and each stage's summary.
    const memory = await db.selectFrom("memory").select(["kind", "title", "path"]).orderBy("id").execute();
    expect(memory.map((m) => `${m.kind}: ${m.title}`)).toEqual([
      "plan: Plan from write-plan",
      "summary: Stage plan Passed",
      expect.stringMatching(/^decision: Approved build-[0-9a-f]{12}$/),
      "summary: Stage build Passed",
    ]);
    expect(readFileSync(join(dir, memory[0]!.path), "utf8")).toContain("+plan: build the tasks");
    expect(readFileSync(join(dir, memory[2]!.path), "utf8")).toContain(`${APPROVER} approved in commit`);
    expect(readFileSync(join(dir, memory[2]!.path), "utf8")).toContain(": looks right");
  } finally {
    await db.destroy();
  }
});
