/**
 * The tool contract's actions over a control dir: one code path for the CLI
 * verbs (`gaffer plan|session|merge|resolve ...`) and the MCP tools
 * (controller/mcp/), so both go through the same core, ledger, capacity and
 * policy checks.
 */
import { resolve } from "node:path";
import { GitCli } from "../adapters/git.js";
import { TmuxAdapter } from "../adapters/tmux.js";
import { planAllocation, type AllocationReport } from "../core/allocation.js";
import { findStage, findTask } from "../core/project-config.js";
import { CommandFailedError, CommandStrandedError, MergeConflictError, NotFoundError, type GafferError } from "../errors.js";
import { createSession, type SessionServiceContext } from "../sessions/index.js";
import { handResolutionProblem, type ConflictResolver, type ResolveOutcome } from "../workspace/conflicts.js";
import type { WorkspaceContext } from "../workspace/context.js";
import { mergeError, mergeWorktree, resolveAndRequeue } from "../workspace/merge-queue.js";
import { readCapacityUsage } from "../../state/capacity.repository.js";
import type { CommandRecord } from "../../state/commands.repository.js";
import type { MergeRecord } from "../../state/merges.repository.js";
import type { SessionRecord } from "../../state/sessions.repository.js";
import type { ControlDir } from "./context.js";

/** The session service's context for a control dir: its ledger, its tmux socket, its agents and limits. */
export async function sessionContext(ctx: ControlDir): Promise<SessionServiceContext> {
  const config = await ctx.config();
  return { db: await ctx.openLedger(), tmux: new TmuxAdapter({ socket: config.tmuxSocket }), limits: await ctx.limits(), actor: ctx.actor, agents: await ctx.agents(), controlDir: ctx.dir };
}

/** The workspace context for a control dir: its ledger, git, the Project and the manifests. */
export async function workspaceContext(ctx: ControlDir): Promise<WorkspaceContext> {
  return { db: await ctx.openLedger(), git: new GitCli(), config: await ctx.config(), manifests: await ctx.loadManifests(), controlDir: ctx.dir, actor: ctx.actor };
}

/** `plan STAGE`: the allocation report against the capacity in use now (NOT_FOUND for an unknown stage). */
export async function stageAllocation(ctx: ControlDir, stageName: string, parallelism?: number): Promise<AllocationReport> {
  const set = await ctx.loadManifests();
  const stage = findStage(set, stageName);
  if (stage === undefined) throw new NotFoundError(`no stage "${stageName}" in any Playbook; \`gaffer get stages\` lists them`);
  const inUse = await readCapacityUsage(await ctx.openLedger());
  return planAllocation({ stage, agents: await ctx.agents(), limits: await ctx.limits(), inUse, tasks: set.tasks, ...(parallelism === undefined ? {} : { parallelism }) });
}

/** The task's active worktree from the ledger, else the Project's target repo. */
export async function defaultWorktree(ctx: ControlDir, task: string): Promise<string> {
  const row = await (await ctx.openLedger()).selectFrom("worktrees").select("path").where("task", "=", task).where("state", "=", "active").orderBy("created_at", "desc").executeTakeFirst();
  return row !== undefined ? resolve(ctx.dir, row.path) : resolve(ctx.dir, (await ctx.config()).repo);
}

/** What `session create` / create_session asks for. */
export interface TaskSessionRequest {
  readonly task: string;
  readonly agent: string;
  /** Default: the agent's first model. */
  readonly model?: string;
  /** Capacity role; default: the task's role, else `worker`. */
  readonly role?: string;
  /** Absolute directory to start in; default: the task's active worktree, else the target repo. */
  readonly worktree?: string;
}

/** Starts an agent session for a task (reserving capacity), with the defaults of `gaffer session create`. */
export async function startTaskSession(ctx: ControlDir, request: TaskSessionRequest): Promise<SessionRecord> {
  const task = findTask(await ctx.loadManifests(), request.task);
  const worktree = request.worktree ?? (await defaultWorktree(ctx, request.task));
  const role = request.role ?? task?.spec.role ?? "worker";
  return createSession(await sessionContext(ctx), { task: request.task, agent: request.agent, role, stage: task?.spec.stage ?? null, worktree, ...(request.model === undefined ? {} : { model: request.model }) });
}

/** The error a finished send stands for (stranded or failed), or null when it was taken up. */
export function commandOutcomeError(command: CommandRecord): GafferError | null {
  const id = command.sessionId;
  if (command.state === "stranded") return new CommandStrandedError(`command ${command.seq} was not taken up by session ${id}: ${String(command.evidence?.reason ?? "no evidence")}; look at it with \`gaffer session attach ${id}\``);
  if (command.state === "failed") return new CommandFailedError(`command ${command.seq} failed in session ${id}: ${command.summary ?? String(command.evidence?.reason ?? "no evidence")}; \`gaffer session read ${id}\` shows the output`);
  return null;
}

/** `merge`: queues the task and works the queue; anything but `merged` is thrown as its error. */
export async function mergeTask(ctx: ControlDir, task: string): Promise<MergeRecord> {
  const row = await mergeWorktree(await workspaceContext(ctx), task);
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

/** `resolve`: checks the hand resolution (no markers, committed), runs the round and re-merges; a failure is thrown. */
export async function resolveByHand(ctx: ControlDir, task: string): Promise<HandResolution> {
  const ws = await workspaceContext(ctx);
  const problem = await handResolutionProblem(ws, task);
  if (problem !== null) throw new MergeConflictError(`task ${task} is not resolved yet: ${problem}; then run \`gaffer resolve --task ${task}\` again`);
  const result = await resolveAndRequeue(ws, task, { resolver: BY_HAND });
  if (!result.outcome.resolved) throw new MergeConflictError(`round ${result.outcome.round} of task ${task} failed: ${result.outcome.reason} (task is now ${result.outcome.phase})`);
  if (result.merge !== null && result.merge.state !== "merged") throw mergeError(result.merge);
  return { outcome: result.outcome, merge: result.merge! };
}
