import type { Ledger } from "./ledger.js";

/** What the ledger knows of one task, for its status file. */
export interface TaskDetails {
  readonly worktree: { readonly path: string; readonly branch: string; readonly baseSha: string } | null;
  readonly session: { readonly id: string; readonly agent: string; readonly model: string | null; readonly state: string; readonly status: string; readonly tmux: string } | null;
  readonly gates: readonly { readonly attempt: number; readonly kind: string; readonly command: string; readonly state: string; readonly exitCode: number | null; readonly durationMs: number | null }[];
  readonly merge: { readonly state: string; readonly mergeSha: string | null; readonly target: string; readonly reason: string | null } | null;
}

/** The task's details for its status file. */
export async function readTaskDetails(db: Ledger, task: string): Promise<TaskDetails> {
  return (await readTaskView(db, task)).details;
}

/** The task's details, and whether its latest session is open (only a Closed or Failed session has a `closed_at`). */
export async function readTaskView(db: Ledger, task: string): Promise<{ readonly details: TaskDetails; readonly sessionOpen: boolean }> {
  const worktree = await db.selectFrom("worktrees").select(["path", "branch", "base_sha"]).where("task", "=", task).where("state", "=", "active").orderBy("created_at", "desc").executeTakeFirst();
  const session = await db.selectFrom("sessions").select(["id", "agent", "model", "state", "status", "tmux_socket", "tmux_name", "closed_at"]).where("task", "=", task).orderBy("created_at", "desc").executeTakeFirst();
  const lastAttempt = await db.selectFrom("gates").select((eb) => eb.fn.max("attempt").as("attempt")).where("task", "=", task).executeTakeFirst();
  const gates = lastAttempt?.attempt == null ? [] : await db.selectFrom("gates").select(["attempt", "kind", "command", "state", "exit_code", "duration_ms"]).where("task", "=", task).where("attempt", "=", lastAttempt.attempt).orderBy("id").execute();
  const merge = await db.selectFrom("merges").select(["state", "merge_sha", "target", "reason"]).where("task", "=", task).orderBy("id", "desc").executeTakeFirst();
  const details: TaskDetails = {
    worktree: worktree === undefined ? null : { path: worktree.path, branch: worktree.branch, baseSha: worktree.base_sha },
    session: session === undefined ? null : { id: session.id, agent: session.agent, model: session.model, state: session.state, status: session.status, tmux: `tmux -L ${session.tmux_socket} attach -t ${session.tmux_name}` },
    gates: gates.map((g) => ({ attempt: g.attempt, kind: g.kind, command: g.command, state: g.state, exitCode: g.exit_code, durationMs: g.duration_ms })),
    merge: merge === undefined ? null : { state: merge.state, mergeSha: merge.merge_sha, target: merge.target, reason: merge.reason },
  };
  return { details, sessionOpen: session !== undefined && session.closed_at === null };
}
