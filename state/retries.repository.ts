import { appendEvent } from "./events.repository.js";
import { immediateTransaction, type Ledger } from "./ledger.js";

/** The ledger action of a person's (or tool's) request for a new attempt of a Failed task. */
export const RETRY_REQUESTED = "RetryRequested";

/** A retry request not yet answered by the controller. */
export interface RetryRequest {
  readonly task: string;
  /** The `events` row id of the request (the task's next round records it as `retryOf`). */
  readonly id: number;
  /** Who asked. */
  readonly actor: string;
}

/** A task's ledger phase and the last retry request its current round answers. */
export interface RetryState {
  readonly task: string;
  readonly phase: string | null;
  readonly stage: string | null;
  /** `retryOf` of the persisted snapshot (0 when the task never was retried). */
  readonly answered: number;
}

/** Reads phase and answered retry of tasks from the `tasks` table (missing tasks have phase null). */
export async function readRetryStates(db: Ledger, tasks: readonly string[]): Promise<RetryState[]> {
  if (tasks.length === 0) return [];
  const rows = await db.selectFrom("tasks").select(["name", "phase", "stage", "snapshot"]).where("name", "in", [...tasks]).execute();
  return tasks.map((task) => {
    const row = rows.find((r) => r.name === task);
    const context = row?.snapshot == null ? null : ((JSON.parse(row.snapshot) as { context?: { retryOf?: number | null } }).context ?? null);
    return { task, phase: row?.phase ?? null, stage: row?.stage ?? null, answered: context?.retryOf ?? 0 };
  });
}

/** The latest retry request of each task newer than `answered` (tasks without one are absent). */
export async function pendingRetries(db: Ledger, tasks: readonly { readonly task: string; readonly answered: number }[]): Promise<Map<string, RetryRequest>> {
  const pending = new Map<string, RetryRequest>();
  if (tasks.length === 0) return pending;
  const rows = await db
    .selectFrom("events")
    .select(["id", "subject", "actor"])
    .where("subject", "in", tasks.map((t) => `task/${t.task}`))
    .where("action", "=", RETRY_REQUESTED)
    .orderBy("id", "desc")
    .execute();
  for (const t of tasks) {
    const row = rows.find((r) => r.subject === `task/${t.task}`);
    if (row !== undefined && row.id > t.answered) pending.set(t.task, { task: t.task, id: row.id, actor: row.actor });
  }
  return pending;
}

/** Records one retry request per task, in one transaction; returns their event ids. */
export async function requestRetries(db: Ledger, request: { readonly tasks: readonly string[]; readonly actor: string; readonly target: string }): Promise<Map<string, number>> {
  return immediateTransaction(db, async (trx) => {
    const ids = new Map<string, number>();
    for (const task of request.tasks) ids.set(task, await appendEvent(trx, { actor: request.actor, action: RETRY_REQUESTED, subject: `task/${task}`, payload: { target: request.target } }));
    return ids;
  });
}
