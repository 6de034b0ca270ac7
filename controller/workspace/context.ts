import { resolve } from "node:path";
import type { ManifestSet, TaskManifest } from "../core/manifest-types.js";
import { findTask, type ProjectConfig } from "../core/project-config.js";
import { NotFoundError, PolicyError } from "../errors.js";
import type { Git } from "../ports.js";
import { appendEvent } from "../../state/events.repository.js";
import type { Ledger } from "../../state/ledger.js";
import type { TaskIdentity } from "../../state/task-phase.repository.js";
import { changeTask, type TaskChange } from "../tasks/task-store.js";

/** What every workspace operation works with: the ledger, git, and the applied manifests. */
export interface WorkspaceContext {
  readonly db: Ledger;
  readonly git: Git;
  readonly config: ProjectConfig;
  readonly manifests: ManifestSet;
  /** Absolute path of the control dir (Project.repo and worktreeRoot are relative to it). */
  readonly controlDir: string;
  /** Who acts, for events (`cli:<user>`, `controller`, `mcp`, `test`). */
  readonly actor: string;
  /**
   * Whether workspace steps tell the task's machine what they did (the CLI and
   * MCP verbs, default: through the task store) or run as the controller's own
   * task effects (false), whose results the running machine turns into its
   * next phase itself.
   */
  readonly recordTaskPhases?: boolean;
}

/** Tells the task's machine what a workspace step did (see `recordTaskPhases`), in the transaction `db` of that step. */
export async function tellTask(ctx: WorkspaceContext, db: Ledger, task: TaskIdentity, change: TaskChange): Promise<void> {
  if (ctx.recordTaskPhases === false) return;
  await changeTask({ db, actor: ctx.actor, policy: ctx.config.policy }, task, change);
}

/** Absolute path of the target repo. */
export function targetRepoPath(ctx: WorkspaceContext): string {
  return resolve(ctx.controlDir, ctx.config.repo);
}

/** Absolute path of the directory every task worktree lives under. */
export function worktreeRootPath(ctx: WorkspaceContext): string {
  return resolve(ctx.controlDir, ctx.config.worktreeRoot);
}

export function requireTask(ctx: WorkspaceContext, name: string): TaskManifest {
  const task = findTask(ctx.manifests, name);
  if (task === undefined) {
    const known = ctx.manifests.tasks.map((t) => t.metadata.name).join(", ") || "none";
    throw new NotFoundError(`no Task named "${name}" in the manifests (known: ${known})`);
  }
  return task;
}

/**
 * Records a guardrail refusal (`PolicyRefused` event) and returns the error
 * to throw: `POLICY_<RULE>: <what and the fix>`.
 */
export async function policyRefusal(ctx: WorkspaceContext, refusal: { readonly rule: string; readonly message: string; readonly subject: string; readonly details?: Readonly<Record<string, unknown>> }): Promise<PolicyError> {
  const details = { ...(refusal.details ?? {}) };
  await appendEvent(ctx.db, { actor: ctx.actor, action: "PolicyRefused", subject: refusal.subject, payload: { rule: `POLICY_${refusal.rule}`, message: refusal.message, ...details } });
  return new PolicyError(refusal.rule, refusal.message, { details });
}
