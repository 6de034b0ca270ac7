/**
 * The checks every verb of the application layer runs before it acts, each
 * refusal a coded error and an `ActionRefused` event: the task exists in the
 * applied (valid) manifests; its stage was approved and started by the
 * controller (or a person overrides from the CLI, recorded as
 * `OverrideUsed`); the directory is the task's own worktree under the
 * worktree root; nothing that only a person may do runs inside a session.
 */
import { existsSync, realpathSync, statSync } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";
import type { TaskManifest } from "../core/manifest-types.js";
import { findTask, resolveProject } from "../core/project-config.js";
import { GafferError, NotFoundError, PathEscapeError, PolicyError } from "../errors.js";
import { appendEvent } from "../../state/events.repository.js";
import { findActiveWorktree } from "../../state/worktrees.repository.js";
import { insideSession } from "../core/session-marker.js";
import type { ControlDir } from "./control-dir.js";

export { insideSession, SESSION_ENV } from "../core/session-marker.js";

/** Stage phases in which a task's work may go on (the controller approved and started the stage). */
export const WORKING_STAGE_PHASES: readonly string[] = ["Running", "Gating"];

/** Phases of a stage that still waits for its approval. */
const AWAITING_APPROVAL = new Set(["Proposed", "AwaitingApproval"]);

/** A person's explicit override of the stage check (CLI only). */
export interface Override {
  readonly reason: string;
}

/** Records the refusal (`ActionRefused`: verb, code, message, entry point) and returns the error to throw. */
export async function refuse<E extends GafferError>(ctx: ControlDir, verb: string, subject: string, error: E): Promise<E> {
  const db = await ctx.openLedger();
  await appendEvent(db, { actor: ctx.actor, action: "ActionRefused", subject, payload: { verb, code: error.code, message: error.message, entry: ctx.entry, session: insideSession(), ...error.details } });
  return error;
}

/** The task in the applied manifests, else NOT_FOUND (refused and ledgered). */
export async function requireAppliedTask(ctx: ControlDir, verb: string, name: string): Promise<TaskManifest> {
  const set = await ctx.loadManifests();
  const task = findTask(set, name);
  if (task !== undefined) return task;
  const known = set.tasks.map((t) => t.metadata.name).join(", ") || "none";
  throw await refuse(ctx, verb, `task/${name}`, new NotFoundError(`no Task named "${name}" in the applied manifests (known: ${known}); \`gaffer get tasks\` lists them`, { details: { task: name } }));
}

async function stagePhase(ctx: ControlDir, stage: string): Promise<string | null> {
  const row = await (await ctx.openLedger()).selectFrom("stages").select("phase").where("name", "=", stage).executeTakeFirst();
  return row?.phase ?? null;
}

function stageRefusal(ctx: ControlDir, task: TaskManifest, phase: string | null): PolicyError {
  const stage = task.spec.stage;
  const of = `stage "${stage}" of task ${task.metadata.name}`;
  const person = ctx.entry === "cli" ? "; a person may act anyway with --override REASON (recorded in the ledger)" : "";
  const details = { task: task.metadata.name, stage, phase };
  if (phase !== null && AWAITING_APPROVAL.has(phase)) {
    return new PolicyError("STAGE_NOT_APPROVED", `${of} is ${phase}: its plan is not approved yet; an approver runs \`gaffer approve ${stage}\` and the controller (\`gaffer up\`) starts it${person}`, { details });
  }
  const state = phase === null ? "has not been started by the controller" : `is ${phase}, not Running`;
  return new PolicyError("STAGE_NOT_RUNNING", `${of} ${state}: work on its tasks goes on only while the controller runs the stage (\`gaffer status\` says what it waits for)${person}`, { details });
}

/**
 * The stage of `task` is Running or Gating in the controller's record. With
 * an override (a person at the CLI, never inside a session) the check is
 * skipped and `OverrideUsed` is ledgered instead.
 */
export async function requireWorkingStage(ctx: ControlDir, verb: string, task: TaskManifest, override: Override | null): Promise<void> {
  const phase = await stagePhase(ctx, task.spec.stage);
  if (phase !== null && WORKING_STAGE_PHASES.includes(phase)) return;
  const subject = `task/${task.metadata.name}`;
  if (override === null) throw await refuse(ctx, verb, subject, stageRefusal(ctx, task, phase));
  if (ctx.entry !== "cli") throw await refuse(ctx, verb, subject, new PolicyError("OVERRIDE_FORBIDDEN", `only a person at the CLI may override the stage check; the ${ctx.entry} entry point cannot`));
  const session = insideSession();
  if (session !== null) {
    throw await refuse(ctx, verb, subject, new PolicyError("OVERRIDE_FORBIDDEN", `--override is refused inside gaffer session ${session}: an agent cannot override a person's stage approval; run it from your own shell`, { details: { session } }));
  }
  await appendEvent(await ctx.openLedger(), { actor: ctx.actor, action: "OverrideUsed", subject, payload: { verb, stage: task.spec.stage, phase, reason: override.reason } });
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel.length > 0 && !rel.startsWith("..") && !isAbsolute(rel);
}

function realDir(path: string): string | null {
  try {
    return statSync(path).isDirectory() ? realpathSync(path) : null;
  } catch {
    return null;
  }
}

/**
 * The task's own active worktree (absolute, real path): present on disk,
 * under the worktree root, never the target repo's main checkout or the
 * control dir. `requested` (a directory a caller named) must be that same
 * worktree, else PATH_ESCAPE.
 */
export async function requireTaskWorktree(ctx: ControlDir, verb: string, task: string, requested?: string): Promise<string> {
  const subject = `task/${task}`;
  const config = resolveProject((await ctx.loadManifests()).project, ctx.dir);
  const record = await findActiveWorktree(await ctx.openLedger(), task);
  const path = record === null ? null : realDir(resolve(ctx.dir, record.path));
  if (record === null || path === null) {
    const gone = record === null ? "has no worktree" : `has no worktree on disk (${record.path} was removed)`;
    throw await refuse(ctx, verb, subject, new NotFoundError(`task ${task} ${gone}; create it first (create_worktree, or \`gaffer worktree create --task ${task}\`)`, { details: { task } }));
  }
  const root = realDir(resolve(ctx.dir, config.worktreeRoot)) ?? resolve(ctx.dir, config.worktreeRoot);
  const main = realDir(resolve(ctx.dir, config.repo));
  if (!isInside(root, path) || path === main || path === realDir(ctx.dir)) {
    throw await refuse(ctx, verb, subject, new PathEscapeError(`the recorded worktree of task ${task} (${path}) is not under the worktree root ${root}; remove it (\`gaffer worktree remove --task ${task}\`) and create it again`, { details: { task, path, root } }));
  }
  if (requested !== undefined && realDir(requested) !== path) {
    const seen = existsSync(requested) ? requested : `${requested} (does not exist)`;
    throw await refuse(ctx, verb, subject, new PathEscapeError(`${seen} is not the worktree of task ${task} (${path}): a session starts only in its task's own worktree`, { details: { task, requested, worktree: path } }));
  }
  return path;
}
