/**
 * The task machine's store on a real SQLite ledger: an event the machine
 * accepts is one row write (revision + 1) and one TaskPhaseChanged with the
 * caller's reason; a refused event writes nothing; a save over a revision
 * that moved on is refused.
 */
import { join } from "node:path";
import { expect, onTestFinished, test } from "vitest";
import { changeTask, saveTaskSnapshot } from "../../controller/tasks/task-store.js";
import { listEvents } from "../../state/events.repository.js";
import { openLedger } from "../../state/ledger.js";
import { readTaskState } from "../../state/task-phase.repository.js";
import { tempDir } from "../helpers/temp.js";

const policy = { maxGateAttempts: 2, maxResolveAttempts: 1 };
const task = { name: "t", stage: "build", role: "builder" };

test("events go through the machine; a final task takes none; a stale save is refused and writes nothing", async () => {
  const db = await openLedger(join(tempDir(), "ledger.sqlite"));
  onTestFinished(() => db.destroy());
  const ctx = { db, actor: "cli:dev", policy };
  expect(await changeTask(ctx, task, { event: { type: "task.merge.started" }, reason: "merge 1 started" })).toEqual({ changed: true, phase: "Merging" });
  const merging = (await readTaskState(db, "t"))!;
  expect([merging.phase, merging.revision, (merging.snapshot as { value: string }).value]).toEqual(["Merging", 1, "Merging"]);

  // The controller's actor loaded nothing (revision null) and saves a stale Working: refused.
  expect(await saveTaskSnapshot(db, { ...task, phase: "Working", snapshot: { value: "Working" }, context: { gateAttempts: 0, resolveAttempts: 0, reason: null }, expected: null, actor: "controller" })).toBeNull();
  expect((await readTaskState(db, "t"))?.phase).toBe("Merging");

  expect(await changeTask(ctx, task, { event: { type: "task.merged" }, reason: "merged into main" })).toEqual({ changed: true, phase: "Merged" });
  expect(await changeTask(ctx, task, { event: { type: "task.merge.started" }, reason: "again" })).toEqual({ changed: false, phase: "Merged" });
  expect((await readTaskState(db, "t"))?.revision).toBe(2);
  const phases = (await listEvents(db, { subject: "task/t", action: "TaskPhaseChanged" })).map((e) => [e.actor, e.payload.from, e.payload.to, e.payload.reason]);
  expect(phases).toEqual([["cli:dev", null, "Merging", "merge 1 started"], ["cli:dev", "Merging", "Merged", "merged into main"]]);
});
