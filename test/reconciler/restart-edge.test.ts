import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pino from "pino";
import { expect, test } from "vitest";
import { runController } from "../../controller/reconciler/run-controller.js";
import { buildTaskEffects } from "../../controller/reconciler/task-effects.js";
import { openLedger } from "../../state/ledger.js";
import { runGaffer } from "../helpers/cli.js";
import { git } from "../helpers/git-repo.js";
import { APPROVER, flowFixture } from "../helpers/flow-fixture.js";
import { waitFor } from "../helpers/temp.js";

const logger = pino({ level: process.env.GAFFER_TEST_LOG ?? "silent" });
const approver = { env: { GIT_AUTHOR_EMAIL: APPROVER, GIT_COMMITTER_EMAIL: APPROVER } };

test("a controller restarted while the manifests are invalid keeps its tasks where they were, and continues once they are fixed", async () => {
  const { dir, target } = flowFixture({ planStage: false, capacity: 1, buildTasks: { "add-a": "sleep 1500\nwrite a.txt <<<alpha\ncommit feat(add-a): add a" } });
  let stop!: () => void;
  let running = runController({ dir, logger, effects: buildTaskEffects, resyncMs: 60_000, stopSignal: new Promise<void>((r) => (stop = r)) });
  const db = await openLedger(join(dir, ".gaffer/ledger.sqlite"));
  const phase = async (table: "tasks" | "stages", name: string) => (await db.selectFrom(table).select("phase").where("name", "=", name).executeTakeFirst())?.phase;
  try {
    await waitFor(async () => ((await phase("stages", "build")) === "AwaitingApproval" ? true : undefined), { timeoutMs: 30_000, what: "build awaiting approval" });
    expect((await runGaffer(["approve", "build", "--dir", dir], approver)).exitCode).toBe(0);
    await waitFor(async () => ((await phase("tasks", "add-a")) === "Working" ? true : undefined), { timeoutMs: 30_000, what: "add-a working" });
    stop();
    await running;
    // A person is mid-edit: the task file is briefly invalid when the controller comes back.
    const tasksFile = join(dir, "manifests/tasks.yaml");
    const good = readFileSync(tasksFile, "utf8");
    appendFileSync(tasksFile, "  oops: [\n");
    running = runController({ dir, logger, effects: buildTaskEffects, resyncMs: 60_000, stopSignal: new Promise<void>((r) => (stop = r)) });
    await expect.poll(() => readFileSync(join(dir, "status/controller.yaml"), "utf8"), { timeout: 20_000 }).toContain("phase: Degraded");
    expect(await phase("tasks", "add-a")).toBe("Working");
    writeFileSync(tasksFile, good);
    await waitFor(async () => ((await phase("stages", "build")) === "Passed" ? true : undefined), { timeoutMs: 60_000, what: "build passed" });
    expect(git(target, "show", "main:a.txt")).toBe("alpha");
  } finally {
    stop();
    await running;
    await db.destroy();
  }
}, 120_000);

test("a stage whose gate has no commands is rejected before anything runs: validate names it, the controller starts none of its tasks", async () => {
  const { dir } = flowFixture({ capacity: 1, gate: "[]" });
  const validate = await runGaffer(["validate", "--dir", dir]);
  expect(validate.exitCode).toBe(1);
  expect(validate.stderr).toMatch(/^manifests\/playbook\.yaml:\d+:\d+: Playbook\/flow: stage "build" has a gate with no commands, so its tasks? [a-z, -]+ would fail at the gate: /m);
  await runController({ dir, logger, effects: buildTaskEffects, once: true });
  const db = await openLedger(join(dir, ".gaffer/ledger.sqlite"));
  try {
    expect(await db.selectFrom("commands").select("id").execute()).toEqual([]);
    expect(await db.selectFrom("events").select("action").where("action", "=", "ManifestRejected").execute()).not.toEqual([]);
  } finally {
    await db.destroy();
  }
}, 120_000);
