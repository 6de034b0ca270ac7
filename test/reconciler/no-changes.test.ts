import { readFileSync } from "node:fs";
import { join } from "node:path";
import pino from "pino";
import { expect, test } from "vitest";
import { runController } from "../../controller/reconciler/run-controller.js";
import { buildTaskEffects } from "../../controller/reconciler/task-effects.js";
import { listEvents } from "../../state/events.repository.js";
import { openLedger } from "../../state/ledger.js";
import { approvedFlowFixture } from "../helpers/approved-fixture.js";
import { runGaffer } from "../helpers/cli.js";
import { git } from "../helpers/git-repo.js";
import { tempDir } from "../helpers/temp.js";

const logger = pino({ level: process.env.GAFFER_TEST_LOG ?? "silent" });

test("a prompt finished without changing anything is sent back once, then the task fails NO_CHANGES: no gate, no merge, ledgered, named in status; work done on the follow-up merges", async () => {
  const log = join(tempDir("gaffer-nochange-log-"), "prompts.jsonl");
  // `late` changes nothing the first time and writes its file the second time (a marker outside the worktree counts the tries).
  const late = `run sh -c "if [ -e ../late.marker ]; then echo late > late.txt; else touch ../late.marker; fi"\ndone tried`;
  const { dir, target } = await approvedFlowFixture({
    planStage: false,
    capacity: 2,
    buildTasks: { noop: "Look at the code and report.\ndone nothing to change", late },
    agentEnv: { GAFFER_SCRIPTED_LOG: log },
  });
  await runController({ dir, logger, effects: buildTaskEffects, once: true });

  const db = await openLedger(join(dir, ".gaffer/ledger.sqlite"));
  try {
    expect((await db.selectFrom("tasks").select("phase").where("name", "=", "noop").executeTakeFirstOrThrow()).phase).toBe("Failed");
    const failed = (await listEvents(db, { subject: "task/noop", action: "TaskPhaseChanged" })).map((e) => e.payload as { to: string; reason: string }).find((p) => p.to === "Failed");
    expect(failed?.reason).toMatch(/^agent failed: NO_CHANGES: the agent finished without changing anything: after the prompt and one follow-up the worktree \S+\/noop has no change and no commit since [0-9a-f]{12}; .* then `gaffer retry noop`$/);
    // Exactly two prompts reached the agent for noop: the task's, then the follow-up that says nothing changed.
    const received = readFileSync(log, "utf8").trim().split("\n").map((l) => (JSON.parse(l) as { text: string }).text).filter((t) => t.includes("report."));
    expect(received.length).toBe(2);
    expect(received[0]).toBe("Look at the code and report.\ndone nothing to change\n");
    expect(received[1]).toMatch(/^# gaffer: your previous session on task noop reported the work finished, but the worktree has no change and no new commit since [0-9a-f]{12}\.\n/);
    expect(received[1]!.endsWith("# The task was:\nLook at the code and report.\ndone nothing to change")).toBe(true);
    const notes = await listEvents(db, { subject: "task/noop", action: "AgentNoChanges" });
    expect(notes.map((n) => n.payload)).toEqual([
      expect.objectContaining({ key: "task:noop:work:1", round: 1, next: "follow-up prompt" }),
      expect.objectContaining({ key: "task:noop:work:1", round: 2, next: "task fails NO_CHANGES" }),
    ]);
    // No gate ran and nothing merged for noop.
    expect(await listEvents(db, { subject: "task/noop", action: "GateCommandStarted" })).toEqual([]);
    expect(await db.selectFrom("merges").select("id").where("task", "=", "noop").execute()).toEqual([]);

    // late: nothing on the first prompt, its file on the follow-up: gated and merged.
    expect((await db.selectFrom("tasks").select("phase").where("name", "=", "late").executeTakeFirstOrThrow()).phase).toBe("Merged");
    expect(git(target, "show", "main:late.txt")).toBe("late");
    expect((await listEvents(db, { subject: "task/late", action: "AgentNoChanges" })).map((n) => (n.payload as { round: number }).round)).toEqual([1]);
  } finally {
    await db.destroy();
  }

  const status = await runGaffer(["status", "--dir", dir]);
  expect(status.stdout).toMatch(/task noop is Failed \(agent failed: NO_CHANGES: the agent finished without changing anything: .*\): retry it with `gaffer retry noop --dir /);
}, 120_000);
