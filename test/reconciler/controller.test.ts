import { readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { expect, test } from "vitest";
import { fromPromise } from "xstate";
import type { EffectInput, GateOutcome, MergeOutcome, TaskEffects } from "../../controller/machines/task.machine.js";
import { runController } from "../../controller/reconciler/run-controller.js";
import { listEvents } from "../../state/events.repository.js";
import { openLedger } from "../../state/ledger.js";
import { readControllerLease } from "../../state/controller-lease.repository.js";
import { APPROVER, commitAs, flowFixture } from "../helpers/flow-fixture.js";

const logger = pino({ level: "silent" });

/** Stand-in task effects (through the machine's named actors) that record which task ran what. */
function recordingEffects(calls: string[]): () => TaskEffects {
  return () => ({
    provisionWorktree: fromPromise<{ path: string; branch: string }, EffectInput>(async ({ input }) => (calls.push(`${input.task}:provision`), { path: "/w", branch: "b" })),
    runAgent: fromPromise<{ summary: string }, EffectInput>(async ({ input }) => (calls.push(`${input.task}:agent`), { summary: "" })),
    commitWork: fromPromise<{ sha: string | null }, EffectInput>(async ({ input }) => (calls.push(`${input.task}:commit`), { sha: null })),
    runGate: fromPromise<GateOutcome, EffectInput>(async ({ input }) => (calls.push(`${input.task}:gate`), { passed: true, summary: "" })),
    mergeBranch: fromPromise<MergeOutcome, EffectInput>(async ({ input }) => (calls.push(`${input.task}:merge`), { result: "merged" as const, sha: "abc" })),
    resolveConflict: fromPromise<{ summary: string }, EffectInput>(async ({ input }) => (calls.push(`${input.task}:resolve`), { summary: "" })),
  });
}

async function phases(dir: string): Promise<Record<string, string>> {
  const db = await openLedger(join(dir, ".gaffer/ledger.sqlite"));
  const stages = await db.selectFrom("stages").select(["name", "phase"]).execute();
  const tasks = await db.selectFrom("tasks").select(["name", "phase"]).execute();
  await db.destroy();
  return Object.fromEntries([...stages.map((s) => [`stage/${s.name}`, s.phase]), ...tasks.map((t) => [`task/${t.name}`, t.phase])]);
}

test("nothing in a stage with needs starts until an approval is committed; then it runs to Passed", async () => {
  const { dir } = flowFixture();
  const calls: string[] = [];
  await runController({ dir, logger, effects: recordingEffects(calls), once: true });
  expect(await phases(dir)).toEqual({ "stage/plan": "Passed", "stage/build": "AwaitingApproval", "task/write-plan": "Merged", "task/add-a": "Pending" });
  expect(calls.filter((c) => c.startsWith("add-a"))).toEqual([]);
  const status = readFileSync(join(dir, "status/stages/build.yaml"), "utf8");
  expect(status).toMatch(/approvalRequest:\n  id: build-[0-9a-f]{12}\n/);
  expect(status).toContain("reason: Pending");

  // A dirty (uncommitted) approval does not count.
  const requestId = /id: (build-[0-9a-f]{12})/.exec(status)![1]!;
  writeFileSync(join(dir, "status/stages/build.yaml"), status.replace("approvals: []", `approvals:\n  - {requestId: ${requestId}, decision: approved}`));
  await runController({ dir, logger, effects: recordingEffects(calls), once: true });
  expect((await phases(dir))["stage/build"]).toBe("AwaitingApproval");
  expect(readFileSync(join(dir, "status/stages/build.yaml"), "utf8")).toContain("reason: Uncommitted");

  commitAs(dir, APPROVER, "chore(approval): approve build", "status/stages/build.yaml");
  await runController({ dir, logger, effects: recordingEffects(calls), once: true });
  expect(await phases(dir)).toEqual({ "stage/plan": "Passed", "stage/build": "Passed", "task/write-plan": "Merged", "task/add-a": "Merged" });
  expect(calls.filter((c) => c.startsWith("add-a"))).toEqual(["add-a:provision", "add-a:agent", "add-a:commit", "add-a:gate", "add-a:merge"]);
  const db = await openLedger(join(dir, ".gaffer/ledger.sqlite"));
  const actions = (await listEvents(db, { subject: "stage/build" })).map((e) => `${e.action}:${String(e.payload.to ?? e.payload.verdict ?? "")}`);
  await db.destroy();
  expect(actions).toEqual(expect.arrayContaining(["StagePhaseChanged:AwaitingApproval", "ApprovalRejected:Uncommitted", "StagePhaseChanged:Running", "StagePhaseChanged:Passed"]));
});

test("a second pass with nothing changed writes nothing and records nothing", async () => {
  const { dir } = flowFixture();
  await runController({ dir, logger, effects: recordingEffects([]), once: true });
  const before = readFileSync(join(dir, "status/stages/build.yaml"), "utf8");
  const db = await openLedger(join(dir, ".gaffer/ledger.sqlite"));
  const count = (await listEvents(db)).filter((e) => !e.action.startsWith("Controller")).length;
  await db.destroy();
  await runController({ dir, logger, effects: recordingEffects([]), once: true });
  expect(readFileSync(join(dir, "status/stages/build.yaml"), "utf8")).toBe(before);
  const db2 = await openLedger(join(dir, ".gaffer/ledger.sqlite"));
  const after = (await listEvents(db2)).filter((e) => !e.action.startsWith("Controller"));
  await db2.destroy();
  expect(after.length).toBe(count);
});

test("an invalid manifest is never applied: the error is in controller.yaml with file:line, fixing it recovers", async () => {
  const { dir } = flowFixture();
  await runController({ dir, logger, effects: recordingEffects([]), once: true });
  const tasksFile = join(dir, "manifests/tasks.yaml");
  const good = readFileSync(tasksFile, "utf8");
  writeFileSync(tasksFile, good.replace("  stage: build", "  stage: biuld"));
  await runController({ dir, logger, effects: recordingEffects([]), once: true });
  const controller = readFileSync(join(dir, "status/controller.yaml"), "utf8");
  expect(controller).toContain("phase: Degraded");
  expect(controller).toMatch(/manifests\/tasks\.yaml:\d+:10: Task\/add-a: unknown stage "biuld"/);
  expect((await phases(dir))["stage/build"]).toBe("AwaitingApproval");
  const db = await openLedger(join(dir, ".gaffer/ledger.sqlite"));
  expect((await listEvents(db, { action: "ManifestRejected" })).length).toBe(1);
  await db.destroy();
  writeFileSync(tasksFile, good);
  await runController({ dir, logger, effects: recordingEffects([]), once: true });
  const recovered = readFileSync(join(dir, "status/controller.yaml"), "utf8");
  expect(recovered).toContain("phase: Reconciling");
  expect(recovered).toContain("manifestErrors: []");
});

test("a second controller on the same control dir is refused with CONTROLLER_LOCKED", async () => {
  const { dir } = flowFixture();
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const first = runController({ dir, logger, effects: recordingEffects([]), stopSignal: stopped });
  const db = await openLedger(join(dir, ".gaffer/ledger.sqlite"));
  const lease = await expect.poll(() => readControllerLease(db)).toMatchObject({ pid: process.pid, host: hostname() }).then(() => readControllerLease(db));
  await db.destroy();
  await expect(runController({ dir, logger, effects: recordingEffects([]), once: true })).rejects.toMatchObject({
    code: "CONTROLLER_LOCKED",
    message: expect.stringMatching(new RegExp(`^another controller \\(pid ${process.pid} on ${hostname()}\\) runs for this control dir \\(lease renewed ${lease!.heartbeatAt.slice(0, 10)}T\\S+, expires \\S+\\); stop it first, or use \`gaffer status\` to watch it$`)),
  });
  stop();
  await first;
});

test("with requireCommittedManifests only committed manifests are applied; an uncommitted edit shows as sourceDirty", async () => {
  const { dir } = flowFixture({ projectSpec: "    requireCommittedManifests: true\n" });
  const tasksFile = join(dir, "manifests/tasks.yaml");
  writeFileSync(tasksFile, readFileSync(tasksFile, "utf8") + "---\napiVersion: gaffer/v1\nkind: Task\nmetadata:\n  name: add-late\nspec:\n  stage: build\n  role: builder\n  prompt: late\n");
  await runController({ dir, logger, effects: recordingEffects([]), once: true });
  expect(Object.keys(await phases(dir))).not.toContain("task/add-late");
  expect(readFileSync(join(dir, "status/controller.yaml"), "utf8")).toContain("sourceDirty: true");
  commitAs(dir, "author@example.com", "feat: late task", "manifests/tasks.yaml");
  await runController({ dir, logger, effects: recordingEffects([]), once: true });
  expect((await phases(dir))["task/add-late"]).toBe("Pending");
  expect(readFileSync(join(dir, "status/controller.yaml"), "utf8")).toContain("sourceDirty: false");
});

test("a running controller keeps the last valid set when a bad manifest is saved, shows it with file:line, and recovers when it is fixed", async () => {
  const { dir } = flowFixture();
  let stop!: () => void;
  const running = runController({ dir, logger, effects: recordingEffects([]), resyncMs: 60_000, stopSignal: new Promise<void>((r) => (stop = r)) });
  try {
    const controllerYaml = () => { try { return readFileSync(join(dir, "status/controller.yaml"), "utf8"); } catch { return ""; } };
    await expect.poll(controllerYaml, { timeout: 20_000 }).toContain("phase: Reconciling");
    const tasksFile = join(dir, "manifests/tasks.yaml");
    const good = readFileSync(tasksFile, "utf8");
    writeFileSync(tasksFile, good.replace("  role: builder", "  role: bilder"));
    await expect.poll(controllerYaml, { timeout: 20_000 }).toContain("phase: Degraded");
    expect(controllerYaml()).toMatch(/manifests\/tasks\.yaml:\d+:9: Task\/add-a: stage "build" has no role "bilder"/);
    expect((await phases(dir))["stage/build"]).toBe("AwaitingApproval");
    writeFileSync(tasksFile, good);
    await expect.poll(controllerYaml, { timeout: 20_000 }).toContain("phase: Reconciling");
    expect(controllerYaml()).toContain("manifestErrors: []");
  } finally {
    stop();
    await running;
  }
});
