import { join } from "node:path";
import pino from "pino";
import { expect, test } from "vitest";
import { runController } from "../../controller/reconciler/run-controller.js";
import { buildTaskEffects } from "../../controller/reconciler/task-effects.js";
import { openLedger } from "../../state/ledger.js";
import { git } from "../helpers/git-repo.js";
import { APPROVER, flowFixture } from "../helpers/flow-fixture.js";
import { runGaffer } from "../helpers/cli.js";
import { waitFor } from "../helpers/temp.js";

const logger = pino({ level: process.env.GAFFER_TEST_LOG ?? "silent" });

test("an agent killed mid-work is detected, restarted in its worktree, and told to continue; the crashed prompt is never re-sent", async () => {
  const { dir, target } = flowFixture({ capacity: 1, buildTasks: { "add-a": "sleep 2500\nwrite a.txt <<<alpha\ncommit feat(add-a): add a" } });
  let stop!: () => void;
  const running = runController({ dir, logger, effects: buildTaskEffects, resyncMs: 60_000, healthMs: 200, stopSignal: new Promise<void>((r) => (stop = r)) });
  const db = await openLedger(join(dir, ".gaffer/ledger.sqlite"));
  try {
    await waitFor(async () => ((await db.selectFrom("stages").select("phase").where("name", "=", "build").executeTakeFirst())?.phase === "AwaitingApproval" ? true : undefined), { timeoutMs: 30_000, what: "build awaiting approval" });
    expect((await runGaffer(["approve", "build", "--dir", dir], { env: { GIT_AUTHOR_EMAIL: APPROVER, GIT_COMMITTER_EMAIL: APPROVER } })).exitCode).toBe(0);
    const busy = await waitFor(async () => db.selectFrom("sessions").select(["id", "pane_pid"]).where("task", "=", "add-a").where("status", "=", "running").where("pane_pid", "is not", null).executeTakeFirst(), { timeoutMs: 30_000, what: "agent working" });
    // The ledger knows the agent took the prompt (acknowledged) before it dies.
    await waitFor(async () => db.selectFrom("commands").select("id").where("idempotency_key", "=", "task:add-a:work:1").where("state", "=", "acknowledged").executeTakeFirst(), { what: "prompt acknowledged" });
    const killedAt = Date.now();
    process.kill(busy.pane_pid!, "SIGKILL");
    await waitFor(async () => db.selectFrom("events").select("id").where("action", "=", "SessionCrashed").where("subject", "=", `session/${busy.id}`).executeTakeFirst(), { timeoutMs: 5000, what: "crash detected" });
    expect(Date.now() - killedAt).toBeLessThan(2000);
    await waitFor(async () => ((await db.selectFrom("stages").select("phase").where("name", "=", "build").executeTakeFirst())?.phase === "Passed" ? true : undefined), { timeoutMs: 60_000, what: "build passed" }).catch(async (error: unknown) => {
      const events = await db.selectFrom("events").select(["at", "action", "subject", "payload"]).where("action", "not in", ["SessionStatusChanged", "CapacityReserved"]).orderBy("id").execute();
      throw new Error(`${String(error)}\n${events.slice(-25).map((e) => `${e.at} ${e.action} ${e.subject} ${e.payload.slice(0, 300)}`).join("\n")}`);
    });
    expect(git(target, "show", "main:a.txt")).toBe("alpha");
    const commands = await db.selectFrom("commands").select(["idempotency_key", "state"]).where("idempotency_key", "like", "task:add-a:work:%").orderBy("issued_at").execute();
    expect(commands).toEqual([
      { idempotency_key: "task:add-a:work:1", state: "failed" },
      { idempotency_key: "task:add-a:work:1#after-crash", state: "done" },
    ]);
    expect(await db.selectFrom("events").select("id").where("action", "=", "SessionRestarted").where("subject", "=", `session/${busy.id}`).execute()).toHaveLength(1);
  } finally {
    stop();
    await running;
    await db.destroy();
  }
}, 120_000);
