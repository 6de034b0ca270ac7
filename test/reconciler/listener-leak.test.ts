import { join } from "node:path";
import pino from "pino";
import { expect, test } from "vitest";
import { runController } from "../../controller/reconciler/run-controller.js";
import { buildTaskEffects } from "../../controller/reconciler/task-effects.js";
import { listEvents } from "../../state/events.repository.js";
import { openLedger } from "../../state/ledger.js";
import { runGaffer } from "../helpers/cli.js";
import { APPROVER, flowFixture } from "../helpers/flow-fixture.js";
import { waitFor } from "../helpers/temp.js";

test("a task waiting for capacity polls without piling listeners on its abort signal (no MaxListenersExceededWarning)", async () => {
  const warnings: string[] = [];
  const onWarning = (warning: Error): void => void warnings.push(`${warning.name}: ${warning.message}`);
  process.on("warning", onWarning);
  // One slot, two build tasks: the second polls for capacity (every 250 ms) while the first sleeps 4 s.
  const { dir } = flowFixture({ planStage: false, capacity: 1, buildTasks: { "add-a": "sleep 4000\nwrite a.txt <<<alpha\ncommit feat(add-a): add a", "add-b": "write b.txt <<<beta\ncommit feat(add-b): add b" } });
  let stop!: () => void;
  const running = runController({ dir, logger: pino({ level: "silent" }), effects: buildTaskEffects, resyncMs: 60_000, stopSignal: new Promise<void>((r) => (stop = r)) });
  const db = await openLedger(join(dir, ".gaffer/ledger.sqlite"));
  try {
    const phaseOf = async (name: string) => (await db.selectFrom("stages").select("phase").where("name", "=", name).executeTakeFirst())?.phase;
    await waitFor(async () => ((await phaseOf("build")) === "AwaitingApproval" ? true : undefined), { timeoutMs: 60_000, what: "build awaiting approval" });
    const approve = await runGaffer(["approve", "build", "--dir", dir], { env: { GIT_AUTHOR_EMAIL: APPROVER, GIT_COMMITTER_EMAIL: APPROVER } });
    expect(approve.exitCode).toBe(0);
    // Settled either way: this test is about the waiting, not the work.
    await waitFor(async () => (["Passed", "Failed"].includes((await phaseOf("build")) ?? "") ? true : undefined), { timeoutMs: 120_000, what: "build settled" });
    expect((await listEvents(db, { action: "CapacityWait" })).length).toBeGreaterThan(0);
  } finally {
    stop();
    await running;
    await db.destroy();
    process.off("warning", onWarning);
  }
  expect(warnings.filter((w) => /MaxListenersExceeded/.test(w))).toEqual([]);
}, 200_000);
