/** Workspace verbs: createWorktree(s), commitChanges, mergeTask, resolveConflict, runGate. */
import { MergeConflictError, UsageError } from "../errors.js";
import type { GateResult } from "../gates/gate-runner.js";
import { runTaskGate } from "../gates/task-gate.js";
import { insideSession } from "../core/session-marker.js";
import { commitChanges as commitService, type CommitResult } from "../workspace/commit.js";
import { handResolutionProblem, type ConflictResolver, type ResolveOutcome } from "../workspace/conflicts.js";
import { mergeError, mergeWorktree, resolveAndRequeue } from "../workspace/merge-queue.js";
import { createWorktrees as createService, type WorktreeOutcome } from "../workspace/worktrees.js";
import type { MergeRecord } from "../../state/merges.repository.js";
import type { ControlDir } from "./control-dir.js";
import { workspaceContext } from "./contexts.js";
import { refuse, requireAppliedTask, requireTaskWorktree, requireWorkingStage, type Override } from "./gatekeeper.js";

/** A verb acting on one task, with a person's optional override of the stage check. */
export interface TaskRequest {
  readonly task: string;
  readonly override?: Override | null;
}

async function admitTask(ctx: ControlDir, verb: string, request: TaskRequest, options: { readonly worktree: boolean }): Promise<void> {
  const task = await requireAppliedTask(ctx, verb, request.task);
  await requireWorkingStage(ctx, verb, task, request.override ?? null);
  if (options.worktree) await requireTaskWorktree(ctx, verb, request.task);
}

/** Creates (or adopts) the worktrees of the named tasks, or of every task of `stage`. */
export async function createWorktrees(ctx: ControlDir, request: { readonly tasks?: readonly string[]; readonly stage?: string; readonly override?: Override | null }): Promise<WorktreeOutcome[]> {
  const set = await ctx.loadManifests();
  const names = request.tasks ?? set.tasks.filter((t) => t.spec.stage === request.stage).map((t) => t.metadata.name);
  if (names.length === 0) throw await refuse(ctx, "createWorktree", `stage/${request.stage ?? "-"}`, new UsageError(`stage "${request.stage}" has no tasks`));
  for (const task of names) await admitTask(ctx, "createWorktree", { task, override: request.override ?? null }, { worktree: false });
  return createService(await workspaceContext(ctx), names);
}

/** What `commit` / commit_changes asks for. */
export interface CommitRequest extends TaskRequest {
  readonly message: string;
  /** The session that made the change; inside a session it is that session, whatever is passed. */
  readonly session?: string | null;
  readonly command?: string | null;
  readonly allowSecrets?: readonly string[];
}

/** Commits the task's worktree after the guardrails; inside a gaffer session the commit is the session's (agent author, trailer). */
export async function commitChanges(ctx: ControlDir, request: CommitRequest): Promise<CommitResult> {
  await admitTask(ctx, "commitChanges", request, { worktree: true });
  const session = insideSession() ?? request.session ?? null;
  return commitService(await workspaceContext(ctx), { task: request.task, message: request.message, session, command: request.command ?? null, allowSecrets: request.allowSecrets ?? [] });
}

/** Queues the task and works the queue; the gate runs on the exact head before anything lands. Anything but `merged` is thrown. */
export async function mergeTask(ctx: ControlDir, request: TaskRequest): Promise<MergeRecord> {
  await admitTask(ctx, "mergeTask", request, { worktree: true });
  const row = await mergeWorktree(await workspaceContext(ctx), request.task);
  if (row.state !== "merged") throw mergeError(row);
  return row;
}

/** Without a resolver session, a person resolved the conflict in the worktree by hand; gaffer only verifies it. */
export const BY_HAND: ConflictResolver = { resolve: async () => ({ summary: "resolved by hand in the worktree" }) };

/** What `resolve` did: the round, and the merge it re-queued. */
export interface HandResolution {
  readonly outcome: ResolveOutcome;
  readonly merge: MergeRecord;
}

/** Checks a resolution made in the worktree (no markers, committed), runs the round and re-merges; a failure is thrown. */
export async function resolveConflict(ctx: ControlDir, request: TaskRequest): Promise<HandResolution> {
  await admitTask(ctx, "resolveConflict", request, { worktree: true });
  const ws = await workspaceContext(ctx);
  const task = request.task;
  const problem = await handResolutionProblem(ws, task);
  if (problem !== null) throw await refuse(ctx, "resolveConflict", `task/${task}`, new MergeConflictError(`task ${task} is not resolved yet: ${problem}; then run \`gaffer resolve --task ${task}\` again`));
  const result = await resolveAndRequeue(ws, task, { resolver: BY_HAND });
  if (!result.outcome.resolved) throw new MergeConflictError(`round ${result.outcome.round} of task ${task} failed: ${result.outcome.reason} (task is now ${result.outcome.phase})`);
  if (result.merge !== null && result.merge.state !== "merged") throw mergeError(result.merge);
  return { outcome: result.outcome, merge: result.merge! };
}

/** Runs the task's gate in its own worktree (ledgered); a failed gate is a result, not an error. */
export async function runGate(ctx: ControlDir, request: { readonly task: string }): Promise<GateResult> {
  await requireAppliedTask(ctx, "runGate", request.task);
  await requireTaskWorktree(ctx, "runGate", request.task);
  return runTaskGate(await workspaceContext(ctx), request.task);
}
