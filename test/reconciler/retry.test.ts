import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pino from "pino";
import { expect, test } from "vitest";
import { retryTarget } from "../../controller/app/retry.js";
import { loadManifestSet } from "../../controller/manifest/load.js";
import { runController } from "../../controller/reconciler/run-controller.js";
import { buildTaskEffects } from "../../controller/reconciler/task-effects.js";
import { writeTaskState } from "../../state/task-phase.repository.js";
import { listEvents } from "../../state/events.repository.js";
import { openLedger, type Ledger } from "../../state/ledger.js";
import { runGaffer } from "../helpers/cli.js";
import { APPROVER, flowFixture } from "../helpers/flow-fixture.js";
import { git } from "../helpers/git-repo.js";
import { waitFor } from "../helpers/temp.js";

const logger = pino({ level: process.env.GAFFER_TEST_LOG ?? "silent" });
const asApprover = { env: { GIT_AUTHOR_EMAIL: APPROVER, GIT_COMMITTER_EMAIL: APPROVER } };

async function phaseOf(db: Ledger, table: "stages" | "tasks", name: string): Promise<string | undefined> {
  return (await db.selectFrom(table).select("phase").where("name", "=", name).executeTakeFirst())?.phase;
}

function until(db: Ledger, table: "stages" | "tasks", name: string, phase: string, timeoutMs = 180_000): Promise<true> {
  return waitFor(async () => ((await phaseOf(db, table, name)) === phase ? true : undefined), { timeoutMs, what: `${table}/${name} ${phase}` });
}

test("retry: a Failed task, then every Failed task of a Failed stage, start new rounds that end Merged; the stage reopens and passes", async () => {
  const { dir, target } = flowFixture({
    projectSpec: "    maxGateAttempts: 1\n",
    gate: "[[test, -f, ../../allow]]",
    buildTasks: { "add-a": "write a.txt <<<alpha\ncommit feat(add-a): add a", "add-b": "write b.txt <<<beta\ncommit feat(add-b): add b" },
  });
  // The gate runs in the worktree (<root>/target.gaffer-worktrees/<task>): ../../allow is <root>/allow.
  const allow = join(dir, "../allow");
  let stop!: () => void;
  const running = runController({ dir, logger, effects: buildTaskEffects, resyncMs: 60_000, stopSignal: new Promise<void>((r) => (stop = r)) });
  const db = await openLedger(join(dir, ".gaffer/ledger.sqlite"));
  try {
    await until(db, "stages", "build", "AwaitingApproval");
    expect((await runGaffer(["approve", "build", "--dir", dir], asApprover)).exitCode).toBe(0);
    // The stage is Failed as soon as one task fails; the other may still be working towards its own failed gate.
    await until(db, "stages", "build", "Failed");
    await until(db, "tasks", "add-a", "Failed");
    await until(db, "tasks", "add-b", "Failed");

    // Not Failed: nothing to retry, nothing recorded.
    const merged = await runGaffer(["retry", "write-plan", "--dir", dir]);
    expect(merged.exitCode).toBe(0);
    expect(merged.stdout).toBe("task write-plan is Merged, not Failed; nothing to retry");
    expect(await listEvents(db, { action: "RetryRequested" })).toEqual([]);

    writeFileSync(allow, "");
    const one = await runGaffer(["retry", "add-a", "--dir", dir]);
    expect(one.exitCode).toBe(0);
    expect(one.stdout).toMatch(/^retry of task add-a requested \(event \d+\): the controller starts a new attempt with a fresh session/);
    await until(db, "tasks", "add-a", "Merged");
    // add-b is still Failed: the stage reopened for add-a's round but cannot pass.
    await until(db, "stages", "build", "Failed");
    expect(git(target, "show", "main:a.txt")).toBe("alpha");

    const stage = await runGaffer(["retry", "build", "--dir", dir, "--json"]);
    expect(stage.exitCode).toBe(0);
    const result = JSON.parse(stage.stdout) as { kind: string; changed: boolean; tasks: { task: string; outcome: string }[] };
    expect(result).toMatchObject({ kind: "stage", changed: true });
    expect(result.tasks.map((t) => [t.task, t.outcome])).toEqual([["add-a", "not-failed"], ["add-b", "requested"]]);
    await until(db, "stages", "build", "Passed");
    expect(git(target, "show", "main:b.txt")).toBe("beta");

    const requests = await listEvents(db, { action: "RetryRequested" });
    expect(requests.map((e) => [e.subject, e.actor.startsWith("cli:"), e.payload.target])).toEqual([["task/add-a", true, "task/add-a"], ["task/add-b", true, "stage/build"]]);
    const retried = await listEvents(db, { action: "TaskRetried" });
    expect(retried.map((e) => [e.subject, e.payload.round, e.payload.request])).toEqual([["task/add-a", 1, requests[0]!.id], ["task/add-b", 1, requests[1]!.id]]);
    // Counters start afresh for the new round: one gate run, which passed.
    expect((await db.selectFrom("tasks").select("gate_attempts").where("name", "=", "add-b").executeTakeFirstOrThrow()).gate_attempts).toBe(1);
    // Each round had its own session.
    expect((await db.selectFrom("sessions").select("id").where("task", "=", "add-b").execute()).length).toBe(2);
  } finally {
    stop();
    await running;
    await db.destroy();
  }
}, 400_000);

test("retry is idempotent: a request waiting for the controller is not recorded twice; unknown targets are NOT_FOUND", async () => {
  const { dir } = flowFixture();
  const db = await openLedger(join(dir, ".gaffer/ledger.sqlite"));
  try {
    const set = await loadManifestSet(dir);
    await writeTaskState(db, { name: "add-a", stage: "build", role: "builder", phase: "Failed", snapshot: { value: "Failed", context: { retryOf: null } }, actor: "controller", reason: "gate failed", gateAttempts: 3, resolveAttempts: 0, expected: "any" });
    const first = await retryTarget({ db, set, actor: "cli:test" }, "add-a");
    expect(first.changed).toBe(true);
    const again = await retryTarget({ db, set, actor: "cli:test" }, "build");
    expect(again.changed).toBe(false);
    expect(again.tasks.find((t) => t.task === "add-a")).toEqual({ task: "add-a", outcome: "already-requested", phase: "Failed", request: first.tasks[0]!.request });
    expect((await listEvents(db, { action: "RetryRequested" })).length).toBe(1);
    const cli = await runGaffer(["retry", "add-a", "--dir", dir]);
    expect(cli.stdout).toBe(`retry of task add-a was already requested (event ${first.tasks[0]!.request}) and waits for the controller; nothing changed`);
    const missing = await runGaffer(["retry", "nope", "--dir", dir]);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain('error: NOT_FOUND: no task or stage named "nope"');
    expect(existsSync(join(dir, "status"))).toBe(false);
  } finally {
    await db.destroy();
  }
}, 120_000);
