import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
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
import { waitFor } from "../helpers/temp.js";

const logger = pino({ level: process.env.GAFFER_TEST_LOG ?? "silent" });

test("pause hands a task to a person, who commits by hand in its worktree; resume continues from what they committed", async () => {
  const { dir, target, socket, worktrees } = flowFixture({ planStage: false, capacity: 1, buildTasks: { "add-a": "ask Shall I write a.txt?\nwrite a.txt <<<from the agent\ncommit feat(add-a): add a" } });
  let stop!: () => void;
  const running = runController({ dir, logger, effects: buildTaskEffects, resyncMs: 60_000, stopSignal: new Promise<void>((r) => (stop = r)) });
  const db = await openLedger(join(dir, ".gaffer/ledger.sqlite"));
  try {
    const phaseOf = async (table: "stages" | "tasks", name: string) => (await db.selectFrom(table).select("phase").where("name", "=", name).executeTakeFirst())?.phase;
    await waitFor(async () => ((await phaseOf("stages", "build")) === "AwaitingApproval" ? true : undefined), { timeoutMs: 30_000, what: "build awaiting approval" });
    const approve = await runGaffer(["approve", "build", "--dir", dir], { env: { GIT_AUTHOR_EMAIL: APPROVER, GIT_COMMITTER_EMAIL: APPROVER } });
    expect(approve.exitCode).toBe(0);
    // The agent asks its question: the session is waiting for a person.
    const session = await waitFor(async () => (await db.selectFrom("sessions").select(["id", "tmux_name", "status"]).where("task", "=", "add-a").where("status", "=", "waiting").executeTakeFirst()), { timeoutMs: 30_000, what: "agent waiting" });

    const pause = await runGaffer(["pause", "add-a", "--dir", dir]);
    expect(pause.stdout).toContain("paused task/add-a");
    await waitFor(async () => ((await phaseOf("tasks", "add-a")) === "Paused" ? true : undefined), { what: "task paused" });

    // The person takes over: answers no in the agent's pane, then writes and commits in the worktree.
    const env = { ...process.env, TMUX: "" };
    execFileSync("tmux", ["-L", socket, "send-keys", "-t", session.tmux_name, "n", "Enter"], { env });
    const worktree = join(worktrees, "add-a");
    writeFileSync(join(worktree, "a.txt"), "written by a person\n");
    git(worktree, "add", "a.txt");
    git(worktree, "commit", "-q", "-m", "feat(add-a): a by hand");
    const sent = (await db.selectFrom("commands").select("id").where("session_id", "=", session.id).execute()).length;
    expect(sent).toBe(1);

    const resume = await runGaffer(["resume", "add-a", "--dir", dir]);
    expect(resume.stdout).toContain("resumed task/add-a");
    await waitFor(async () => ((await phaseOf("stages", "build")) === "Passed" ? true : undefined), { timeoutMs: 60_000, what: "build passed" });
    expect(git(target, "show", "main:a.txt")).toBe("written by a person");
    // Nothing was sent to the session while it was paused, and the prompt was not sent again after.
    expect((await db.selectFrom("commands").select("id").where("session_id", "=", session.id).execute()).length).toBe(sent);
    const actions = (await listEvents(db, { subject: "task/add-a" })).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(["Paused", "Resumed"]));
    await waitFor(() => (readFileSync(join(dir, "status/tasks/add-a.yaml"), "utf8").includes("\nphase: Merged\n") ? true : undefined), { what: "status file rewritten" });
  } finally {
    stop();
    await running;
    await db.destroy();
  }
});
