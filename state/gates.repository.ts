import type { Ledger } from "./ledger.js";
import { nowIso } from "./ledger.js";

/** The attempt number the next gate run of `task` gets (1-based). */
export async function nextGateAttempt(db: Ledger, task: string): Promise<number> {
  const row = await db.selectFrom("gates").select((eb) => eb.fn.max("attempt").as("last")).where("task", "=", task).executeTakeFirst();
  return Number(row?.last ?? 0) + 1;
}

/** Inserts a `running` gate row and returns its id. */
export async function startGateRun(db: Ledger, run: { readonly task: string; readonly attempt: number; readonly kind: "command" | "review"; readonly command: string }): Promise<number> {
  const row = await db
    .insertInto("gates")
    .values({ task: run.task, attempt: run.attempt, kind: run.kind, command: run.command, state: "running", exit_code: null, duration_ms: null, output_tail: null, started_at: nowIso(), finished_at: null })
    .returning("id")
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function finishGateRun(db: Ledger, id: number, result: { readonly state: "passed" | "failed"; readonly exitCode: number | null; readonly durationMs: number; readonly outputTail: string }): Promise<void> {
  await db.updateTable("gates").set({ state: result.state, exit_code: result.exitCode, duration_ms: result.durationMs, output_tail: result.outputTail, finished_at: nowIso() }).where("id", "=", id).execute();
}
