import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pino from "pino";
import { expect, test } from "vitest";
import { runController } from "../../controller/reconciler/run-controller.js";
import { buildTaskEffects } from "../../controller/reconciler/task-effects.js";
import { listEvents } from "../../state/events.repository.js";
import { openLedger, type Ledger } from "../../state/ledger.js";
import { readStageStatus, readTaskStatus } from "../../controller/status/status-store.js";
import { runGaffer } from "../helpers/cli.js";
import { APPROVER, MANIFEST_AUTHOR, commitAs, flowFixture } from "../helpers/flow-fixture.js";
import { git } from "../helpers/git-repo.js";
import { waitFor } from "../helpers/temp.js";

const logger = pino({ level: process.env.GAFFER_TEST_LOG ?? "silent" });
const asApprover = { env: { GIT_AUTHOR_EMAIL: APPROVER, GIT_COMMITTER_EMAIL: APPROVER } };

function until(db: Ledger, table: "stages" | "tasks", name: string, phase: string): Promise<true> {
  return waitFor(async () => ((await db.selectFrom(table).select("phase").where("name", "=", name).executeTakeFirst())?.phase === phase ? true : undefined), { timeoutMs: 180_000, what: `${table}/${name} ${phase}` });
}

async function sessionsOf(db: Ledger, task: string): Promise<number> {
  return (await db.selectFrom("sessions").select("id").where("task", "=", task).execute()).length;
}

test("a task changed in a Passed stage reopens it under a new plan digest: a new approval, then only the changed task runs again, in a new round", async () => {
  const { dir, target } = flowFixture({ buildTasks: { "add-a": "write a.txt <<<alpha\ncommit feat(add-a): add a", "add-b": "write b.txt <<<beta\ncommit feat(add-b): add b" } });
  let stop!: () => void;
  const running = runController({ dir, logger, effects: buildTaskEffects, resyncMs: 60_000, stopSignal: new Promise<void>((r) => (stop = r)) });
  const db = await openLedger(join(dir, ".gaffer/ledger.sqlite"));
  try {
    await until(db, "stages", "build", "AwaitingApproval");
    expect((await runGaffer(["approve", "build", "--dir", dir], asApprover)).exitCode).toBe(0);
    await until(db, "stages", "build", "Passed");
    expect(git(target, "show", "main:a.txt")).toBe("alpha");
    const first = (await readStageStatus(dir, "build")).status!.approvalRequest!.id;

    // Edit add-a's prompt (not a new task): its spec changed after it merged.
    const tasksFile = join(dir, "manifests/tasks.yaml");
    writeFileSync(tasksFile, readFileSync(tasksFile, "utf8").replace("write a.txt <<<alpha", "write a.txt <<<alpha, second edition"));
    commitAs(dir, MANIFEST_AUTHOR, "feat: change add-a", "manifests");
    await until(db, "stages", "build", "AwaitingApproval");
    const second = await waitFor(async () => {
      const id = (await readStageStatus(dir, "build")).status?.approvalRequest?.id;
      return id !== undefined && id !== first ? id : undefined;
    }, { timeoutMs: 60_000, what: "a new approval request" });
    expect(second).toMatch(/^build-[0-9a-f]{12}$/);
    const changed = await listEvents(db, { subject: "task/add-a", action: "TaskChanged" });
    expect(changed.map((e) => [e.payload.round, e.payload.from])).toEqual([[1, "Merged"]]);
    expect(await listEvents(db, { subject: "task/add-b", action: "TaskChanged" })).toEqual([]);
    // Nothing runs before the new plan is approved.
    expect(await db.selectFrom("tasks").select("phase").where("name", "=", "add-a").executeTakeFirstOrThrow()).toEqual({ phase: "Pending" });
    expect(await sessionsOf(db, "add-a")).toBe(1);

    expect((await runGaffer(["approve", "build", "--dir", dir], asApprover)).exitCode).toBe(0);
    await until(db, "stages", "build", "Passed");
    await until(db, "tasks", "add-a", "Merged");
    expect(git(target, "show", "main:a.txt")).toBe("alpha, second edition");
    // A fresh session for the new round; the unchanged tasks were not run again.
    expect(await sessionsOf(db, "add-a")).toBe(2);
    expect(await sessionsOf(db, "add-b")).toBe(1);
    expect(await sessionsOf(db, "write-plan")).toBe(1);
    expect(((await readTaskStatus(dir, "add-a")).status?.details as { round?: number }).round).toBe(1);
    const view = JSON.parse((await runGaffer(["status", "--json", "--dir", dir])).stdout) as { tasks: { name: string; gate: string }[] };
    expect(view.tasks.find((t) => t.name === "add-a")!.gate).toBe("passed (retry 1)");
  } finally {
    stop();
    await running;
    await db.destroy();
  }
}, 600_000);
