import { closeSession } from "../sessions/close-session.js";
import { removeWorktree } from "../workspace/worktree-removal.js";
import { appendEvent } from "../../state/events.repository.js";
import { immediateTransaction } from "../../state/ledger.js";
import { listSessions } from "../../state/sessions.repository.js";
import { forgetTaskSnapshot } from "../../state/task-phase.repository.js";
import { changeTask } from "../tasks/task-store.js";
import { findActiveWorktree } from "../../state/worktrees.repository.js";
import type { World } from "./world.js";
import type { ManifestSet } from "../core/manifest-types.js";
import { taskSpecDigest } from "../core/plan-digest.js";
import type { TaskContext } from "../machines/task.machine.js";

/** Phases after which a task does nothing more: removing it from the manifests needs no cancellation. */
export const SETTLED_PHASES: ReadonlySet<string> = new Set(["Merged", "Failed", "Cancelled"]);

/** What a cancellation did: the sessions it closed and where uncommitted work went. */
export interface Cancellation {
  readonly task: string;
  readonly sessions: readonly string[];
  readonly worktree: string | null;
  readonly salvageBranch: string | null;
}

/**
 * A task removed from the manifests while it worked: its sessions are
 * closed, its worktree removed with uncommitted work saved to a
 * `gaffer/salvage/...` branch (committed work stays on its branch), and it
 * ends `Cancelled` (never counted as merged) with its snapshot cleared, so a
 * task added again under the same name starts afresh.
 */
export async function cancelRemovedTask(w: World, task: { readonly name: string; readonly stage: string; readonly role: string; readonly phase: string }): Promise<Cancellation> {
  const tmux = w.tmux;
  const ctx = { db: w.db, tmux, limits: w.limits, actor: w.actor, agents: w.agents };
  const closed: string[] = [];
  for (const session of await listSessions(w.db)) {
    if (session.task !== task.name) continue;
    const result = await closeSession(ctx, session.id, "task removed from the manifests");
    if (result.closed) closed.push(session.id);
  }
  const active = await findActiveWorktree(w.db, task.name);
  const removed = active === null ? null : await removeWorktree({ db: w.db, git: w.git, config: w.config, manifests: w.set, controlDir: w.dir, actor: w.actor }, task.name, { force: true });
  const cancellation: Cancellation = { task: task.name, sessions: closed, worktree: removed?.path ?? null, salvageBranch: removed?.salvageBranch ?? null };
  await immediateTransaction(w.db, async (trx) => {
    await changeTask({ db: trx, actor: w.actor, policy: w.config.policy }, { name: task.name, stage: task.stage, role: task.role }, { event: { type: "task.cancelled" }, reason: `removed from the manifests while ${task.phase}` });
    await forgetTaskSnapshot(trx, task.name);
    await appendEvent(trx, { actor: w.actor, action: "TaskCancelled", subject: `task/${task.name}`, payload: { from: task.phase, ...cancellation } });
  });
  return cancellation;
}

/** A settled task whose spec changed since its round started work. */
export interface ChangedTask {
  readonly task: string;
  /** Merged or Failed. */
  readonly phase: string;
  /** Spec digest the finished round worked on, and the one the manifests hold now. */
  readonly from: string;
  readonly to: string;
  /** The finished round (its successor is round + 1) and the retry request it answered. */
  readonly round: number;
  readonly retryOf: number | null;
}

/**
 * Pure: the Merged or Failed tasks whose manifest spec changed since their
 * round started work (a changed task is new desired state: it runs again).
 * A round with no recorded digest (a snapshot from an older gaffer) is left alone.
 */
export function changedSettledTasks(set: ManifestSet, snapshotOf: (task: string) => { readonly value: unknown; readonly context: TaskContext } | undefined): ChangedTask[] {
  const changed: ChangedTask[] = [];
  for (const task of set.tasks) {
    const snapshot = snapshotOf(task.metadata.name);
    const phase = String(snapshot?.value);
    const from = snapshot?.context.specDigest;
    if ((phase !== "Merged" && phase !== "Failed") || typeof from !== "string") continue;
    const to = taskSpecDigest(task);
    if (from !== to) changed.push({ task: task.metadata.name, phase, from, to, round: snapshot!.context.round ?? 0, retryOf: snapshot!.context.retryOf ?? null });
  }
  return changed;
}
