/**
 * One owner of a task's phase: a person's `gaffer merge` while `gaffer up`
 * works the same task sends the task's machine its events through the task
 * store, and the running controller reloads the task instead of overwriting
 * it with its own, older actor.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pino from "pino";
import { expect, test } from "vitest";
import { runController } from "../../controller/reconciler/run-controller.js";
import { buildTaskEffects } from "../../controller/reconciler/task-effects.js";
import { listEvents } from "../../state/events.repository.js";
import { openLedger, type Ledger } from "../../state/ledger.js";
import { runGaffer } from "../helpers/cli.js";
import { APPROVER, flowFixture } from "../helpers/flow-fixture.js";
import { git } from "../helpers/git-repo.js";
import { waitFor } from "../helpers/temp.js";

const logger = pino({ level: process.env.GAFFER_TEST_LOG ?? "silent" });
const ORDER = ["Pending", "Provisioning", "Working", "Committing", "Gating", "Merging", "Merged"];

async function phaseOf(db: Ledger, table: "stages" | "tasks", name: string): Promise<string | undefined> {
  return (await db.selectFrom(table).select("phase").where("name", "=", name).executeTakeFirst())?.phase;
}

function until(db: Ledger, table: "stages" | "tasks", name: string, phase: string): Promise<true> {
  return waitFor(async () => ((await phaseOf(db, table, name)) === phase ? true : undefined), { timeoutMs: 60_000, what: `${table}/${name} ${phase}` });
}

test("gaffer merge by a person while gaffer up gates the same task: one Merged, no phase backwards, ledger and status file agree, its sessions closed", async () => {
  // The gate waits for <root>/go (the worktree is <root>/target.gaffer-worktrees/add-a): the controller's task holds in Gating.
  const { dir, target } = flowFixture({ planStage: false, capacity: 1, gate: `[[sh, -c, "while [ ! -f ../../go ]; do sleep 0.05; done"]]` });
  const go = join(dir, "../go");
  let stop!: () => void;
  const running = runController({ dir, logger, effects: buildTaskEffects, resyncMs: 60_000, stopSignal: new Promise<void>((r) => (stop = r)) });
  const db = await openLedger(join(dir, ".gaffer/ledger.sqlite"));
  try {
    await until(db, "stages", "build", "AwaitingApproval");
    expect((await runGaffer(["approve", "build", "--dir", dir], { env: { GIT_AUTHOR_EMAIL: APPROVER, GIT_COMMITTER_EMAIL: APPROVER } })).exitCode).toBe(0);
    await until(db, "tasks", "add-a", "Gating");

    // The person merges; its merge waits on the same gate, so the task is Merging in the ledger first.
    const merging = runGaffer(["merge", "--task", "add-a", "--dir", dir]);
    await until(db, "tasks", "add-a", "Merging");
    writeFileSync(go, "");
    const merged = await merging;
    expect([merged.exitCode, merged.stderr]).toEqual([0, ""]);

    await until(db, "stages", "build", "Passed");
    await waitFor(() => (readFileSync(join(dir, "status/tasks/add-a.yaml"), "utf8").includes("\nphase: Merged\n") ? true : undefined), { what: "status file Merged" });
    expect(await phaseOf(db, "tasks", "add-a")).toBe("Merged");
    expect(git(target, "show", "main:a.txt")).toBe("alpha");

    const phases = (await listEvents(db, { subject: "task/add-a", action: "TaskPhaseChanged" })).map((e) => String(e.payload.to));
    expect(phases.filter((p) => p === "Merged")).toEqual(["Merged"]);
    const ranks = phases.map((p) => ORDER.indexOf(p));
    expect(ranks.every((r, i) => r >= 0 && (i === 0 || r >= ranks[i - 1]!)), `phases ${phases.join(" -> ")}`).toBe(true);
    const landings = (await listEvents(db, { subject: "task/add-a" })).filter((e) => e.action === "MergeSucceeded" || e.action === "MergeRecognized");
    expect(landings.map((e) => e.action)).toEqual(["MergeSucceeded"]);
    // A merged task keeps no session open, whichever process merged it.
    await waitFor(async () => ((await db.selectFrom("sessions").select("id").where("task", "=", "add-a").where("closed_at", "is", null).execute()).length === 0 ? true : undefined), { what: "add-a's sessions closed" });
  } finally {
    stop();
    await running;
    await db.destroy();
  }
});
