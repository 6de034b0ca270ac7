import type { Ledger } from "./ledger.js";
import { nowIso } from "./ledger.js";

/**
 * A conflict-resolution job, stored as an `effects` row (kind `resolve`, key
 * `resolve:<task>:<round>`): ledgered when the conflict is found (`issued`),
 * `running` while a resolver works, then `done` or `failed` with the evidence.
 */
export interface ResolveJob {
  readonly key: string;
  readonly task: string;
  readonly round: number;
  readonly state: "issued" | "running" | "done" | "failed";
  /** Conflict facts, the prompt, and the outcome (summary or evidence of failure). */
  readonly result: Readonly<Record<string, unknown>>;
  readonly issuedAt: string;
  readonly updatedAt: string;
}

export function resolveJobKey(task: string, round: number): string {
  return `resolve:${task}:${round}`;
}

function toJob(row: { key: string; state: string; result: string | null; issued_at: string; updated_at: string }): ResolveJob {
  const [, task = "", round = "0"] = row.key.split(":");
  return { key: row.key, task, round: Number(round), state: row.state as ResolveJob["state"], result: JSON.parse(row.result ?? "{}") as Record<string, unknown>, issuedAt: row.issued_at, updatedAt: row.updated_at };
}

/** Creates the job (idempotent on its key). */
export async function createResolveJob(db: Ledger, job: { readonly task: string; readonly round: number; readonly facts: Readonly<Record<string, unknown>> }): Promise<ResolveJob> {
  const at = nowIso();
  const key = resolveJobKey(job.task, job.round);
  await db.insertInto("effects").values({ key, kind: "resolve", state: "issued", result: JSON.stringify(job.facts), issued_at: at, updated_at: at }).onConflict((oc) => oc.column("key").doNothing()).execute();
  return (await findResolveJob(db, key))!;
}

export async function findResolveJob(db: Ledger, key: string): Promise<ResolveJob | null> {
  const row = await db.selectFrom("effects").selectAll().where("key", "=", key).executeTakeFirst();
  return row === undefined ? null : toJob(row);
}

/** The task's newest resolve job. */
export async function latestResolveJob(db: Ledger, task: string): Promise<ResolveJob | null> {
  const rows = await db.selectFrom("effects").selectAll().where("kind", "=", "resolve").where("key", "like", `resolve:${task}:%`).execute();
  const jobs = rows.map(toJob).filter((j) => j.task === task).sort((a, b) => b.round - a.round);
  return jobs[0] ?? null;
}

/** Moves a job to `state`, merging `patch` into its result. */
export async function updateResolveJob(db: Ledger, key: string, state: ResolveJob["state"], patch: Readonly<Record<string, unknown>> = {}): Promise<void> {
  const job = await findResolveJob(db, key);
  if (job === null) return;
  await db.updateTable("effects").set({ state, result: JSON.stringify({ ...job.result, ...patch }), updated_at: nowIso() }).where("key", "=", key).execute();
}
