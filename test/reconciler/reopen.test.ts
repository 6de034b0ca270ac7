import { execFileSync } from "node:child_process";
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pino from "pino";
import { expect, test } from "vitest";
import { runController } from "../../controller/reconciler/run-controller.js";
import { buildTaskEffects } from "../../controller/reconciler/task-effects.js";
import { listEvents } from "../../state/events.repository.js";
import { openLedger, type Ledger } from "../../state/ledger.js";
import { readStageStatus } from "../../controller/status/status-store.js";
import { runGaffer } from "../helpers/cli.js";
import { APPROVER, MANIFEST_AUTHOR, commitAs, flowFixture } from "../helpers/flow-fixture.js";
import { git } from "../helpers/git-repo.js";
import { waitFor } from "../helpers/temp.js";

const logger = pino({ level: process.env.GAFFER_TEST_LOG ?? "silent" });
const asApprover = { env: { GIT_AUTHOR_EMAIL: APPROVER, GIT_COMMITTER_EMAIL: APPROVER } };

function until(db: Ledger, table: "stages" | "tasks", name: string, phase: string): Promise<true> {
  return waitFor(async () => ((await db.selectFrom(table).select("phase").where("name", "=", name).executeTakeFirst())?.phase === phase ? true : undefined), { timeoutMs: 180_000, what: `${table}/${name} ${phase}` });
}

function startController(dir: string) {
  let stop!: () => void;
  const running = runController({ dir, logger, effects: buildTaskEffects, resyncMs: 60_000, stopSignal: new Promise<void>((r) => (stop = r)) });
  return { stop: async () => (stop(), await running) };
}

test("a task added to a Passed stage reopens it under a new plan digest: a new approval, then only the new task runs", async () => {
  const { dir, target } = flowFixture({ planStage: false });
  const controller = startController(dir);
  const db = await openLedger(join(dir, ".gaffer/ledger.sqlite"));
  try {
    await until(db, "stages", "build", "AwaitingApproval");
    expect((await runGaffer(["approve", "build", "--dir", dir], asApprover)).exitCode).toBe(0);
    await until(db, "stages", "build", "Passed");
    const first = (await readStageStatus(dir, "build")).status!.approvalRequest!.id;

    appendFileSync(join(dir, "manifests/tasks.yaml"), "---\napiVersion: gaffer/v1\nkind: Task\nmetadata:\n  name: add-c\nspec:\n  stage: build\n  role: builder\n  prompt: |\n    write c.txt <<<gamma\n    commit feat(add-c): add c\n");
    commitAs(dir, MANIFEST_AUTHOR, "feat: one more build task", "manifests");
    await until(db, "stages", "build", "AwaitingApproval");
    // The status file is rewritten at the end of the pass that reopened the stage.
    const second = await waitFor(async () => {
      const id = (await readStageStatus(dir, "build")).status?.approvalRequest?.id;
      return id !== undefined && id !== first ? id : undefined;
    }, { timeoutMs: 60_000, what: "a new approval request" });
    expect(second).toMatch(/^build-[0-9a-f]{12}$/);
    expect(await db.selectFrom("tasks").select("phase").where("name", "=", "add-c").executeTakeFirstOrThrow()).toEqual({ phase: "Pending" });

    expect((await runGaffer(["approve", "build", "--dir", dir], asApprover)).exitCode).toBe(0);
    await until(db, "stages", "build", "Passed");
    expect(git(target, "show", "main:c.txt")).toBe("gamma");
    // The merged task was not run again.
    expect((await db.selectFrom("sessions").select("id").where("task", "=", "add-a").execute()).length).toBe(1);
    const phases = (await listEvents(db, { subject: "stage/build", action: "StagePhaseChanged" })).map((e) => e.payload.to);
    // One pass settles Passed -> Proposed -> AwaitingApproval; the ledger records where it settled.
    const reopened = phases.slice(phases.indexOf("Passed") + 1);
    expect(reopened.slice(0, 2)).toEqual(["AwaitingApproval", "Running"]);
    expect(reopened.at(-1)).toBe("Passed");
  } finally {
    await controller.stop();
    await db.destroy();
  }
}, 600_000);

test("a task removed from the manifests while it works is Cancelled (session closed, worktree removed) and its stage passes only after that", async () => {
  const { dir, socket, worktrees } = flowFixture({ planStage: false, buildTasks: { "add-a": "write a.txt <<<alpha\ncommit feat(add-a): add a", "add-slow": "ask Shall I write s.txt?\nwrite s.txt <<<slow\ncommit feat(add-slow): add s" } });
  const controller = startController(dir);
  const db = await openLedger(join(dir, ".gaffer/ledger.sqlite"));
  try {
    await until(db, "stages", "build", "AwaitingApproval");
    expect((await runGaffer(["approve", "build", "--dir", dir], asApprover)).exitCode).toBe(0);
    await until(db, "tasks", "add-a", "Merged");
    const session = await waitFor(async () => db.selectFrom("sessions").select(["id", "tmux_name"]).where("task", "=", "add-slow").where("status", "=", "waiting").executeTakeFirst(), { timeoutMs: 180_000, what: "add-slow asks its question" });
    expect((await db.selectFrom("stages").select("phase").where("name", "=", "build").executeTakeFirstOrThrow()).phase).toBe("Running");

    const tasksFile = join(dir, "manifests/tasks.yaml");
    writeFileSync(tasksFile, readFileSync(tasksFile, "utf8").split("---\n").filter((doc) => !doc.includes("name: add-slow")).join("---\n"));
    commitAs(dir, MANIFEST_AUTHOR, "feat: drop the slow task", "manifests");
    await until(db, "tasks", "add-slow", "Cancelled");
    await until(db, "stages", "build", "Passed");

    const cancelled = (await listEvents(db, { subject: "task/add-slow", action: "TaskCancelled" }))[0]!;
    expect(cancelled.payload).toMatchObject({ from: "Working", sessions: [session.id], worktree: join(worktrees, "add-slow") });
    const passed = (await listEvents(db, { subject: "stage/build", action: "StagePhaseChanged" })).filter((e) => e.payload.to === "Passed");
    expect(passed.length).toBe(1);
    expect(passed[0]!.id).toBeGreaterThan(cancelled.id);
    expect((await db.selectFrom("sessions").select("state").where("id", "=", session.id).executeTakeFirstOrThrow()).state).toBe("Closed");
    expect(() => execFileSync("tmux", ["-L", socket, "has-session", "-t", session.tmux_name], { stdio: "ignore", env: { ...process.env, TMUX: "" } })).toThrow();
    expect(existsSync(join(worktrees, "add-slow"))).toBe(false);
  } finally {
    await controller.stop();
    await db.destroy();
  }
}, 600_000);
