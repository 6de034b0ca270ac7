/**
 * commit_changes: stage everything in a task's worktree and commit it, after
 * the guardrails: the task's own branch (never a protected one), the commit
 * format, and no file from the secrets denylist unless explicitly allowed.
 */
import { checkCommitMessage, isProtectedBranch, matchSecret } from "../core/git-policy.js";
import { taskBranch, type ProjectConfig } from "../core/project-config.js";
import { NotFoundError } from "../errors.js";
import type { GitFileChange } from "../ports.js";
import { appendEvent } from "../../state/events.repository.js";
import { getSession } from "../../state/sessions.repository.js";
import { findActiveWorktree } from "../../state/worktrees.repository.js";
import { policyRefusal, requireTask, type WorkspaceContext } from "./context.js";
import { checkProtectedPaths } from "./protected-paths.js";

export interface CommitRequest {
  readonly task: string;
  readonly message: string;
  /** Session that made the change (`Gaffer-Session:` trailer). */
  readonly session?: string | null;
  /** Ledger command that asked for it (`Gaffer-Command:` trailer). */
  readonly command?: string | null;
  /** Paths allowed through the secrets denylist, exactly as git shows them. */
  readonly allowSecrets?: readonly string[];
  /** The session's agent name, for the agent author's `{agent}`. */
  readonly agent?: string | null;
}

export interface CommitSummary {
  readonly added: number;
  readonly modified: number;
  readonly deleted: number;
  readonly insertions: number;
  readonly deletions: number;
}

export interface CommitResult {
  readonly task: string;
  readonly branch: string;
  /** The new commit, null when there was nothing to commit. */
  readonly sha: string | null;
  readonly noop: boolean;
  readonly files: readonly GitFileChange[];
  readonly summary: CommitSummary;
}

const EMPTY: CommitSummary = { added: 0, modified: 0, deleted: 0, insertions: 0, deletions: 0 };

export function summarizeChanges(files: readonly GitFileChange[]): CommitSummary {
  return files.reduce((s, f) => ({ ...s, [f.change]: s[f.change] + 1, insertions: s.insertions + f.insertions, deletions: s.deletions + f.deletions }), EMPTY);
}

/** The trailers linking a commit to the ledger. */
export function commitTrailers(request: CommitRequest): [string, string][] {
  const trailers: [string, string][] = [["Gaffer-Task", request.task]];
  if (request.session) trailers.push(["Gaffer-Session", request.session]);
  if (request.command) trailers.push(["Gaffer-Command", request.command]);
  return trailers;
}

/** The git author of a commit made for `session`: policy.agentAuthor with `{session}` and `{agent}` filled in. */
export function agentAuthor(config: ProjectConfig, vars: { readonly session: string; readonly agent: string }): { name: string; email: string } {
  const fill = (template: string): string => template.replace(/\{(session|agent)\}/g, (_, key: "session" | "agent") => vars[key].replace(/[^A-Za-z0-9._-]/g, "-"));
  return { name: fill(config.policy.agentAuthor.name), email: fill(config.policy.agentAuthor.email) };
}

/** Commits everything in the task's worktree after the guardrails; a commit for a session is authored by the agent identity. */
export async function commitChanges(ctx: WorkspaceContext, request: CommitRequest): Promise<CommitResult> {
  const task = requireTask(ctx, request.task);
  const worktree = await findActiveWorktree(ctx.db, request.task);
  if (worktree === null) throw new NotFoundError(`task ${request.task} has no worktree; create it first (gaffer worktree create --task ${request.task})`);
  const branch = taskBranch(ctx.config, task);
  await checkBranch(ctx, request.task, branch, await ctx.git.currentBranch(worktree.path));
  const formatProblem = checkCommitMessage(ctx.config.policy.commitFormat, request.message);
  if (formatProblem !== null) {
    throw await policyRefusal(ctx, { rule: "COMMIT_FORMAT", subject: `task/${request.task}`, message: formatProblem, details: { format: ctx.config.policy.commitFormat } });
  }
  // Stage, then judge exactly what would be committed; a refusal unstages again.
  await ctx.git.stageAll(worktree.path);
  const files = await ctx.git.stagedChanges(worktree.path);
  if (files.length === 0) return { task: request.task, branch, sha: null, noop: true, files: [], summary: EMPTY };
  await checkSecrets(ctx, request, worktree.path, files);
  await checkProtectedPaths(ctx, { task: request.task, what: "the commit", paths: files.map((f) => f.path) }).catch(async (error: unknown) => {
    await ctx.git.unstageAll(worktree.path);
    throw error;
  });
  const author = request.session ? agentAuthor(ctx.config, { session: request.session, agent: request.agent ?? (await getSession(ctx.db, request.session))?.agent ?? "agent" }) : undefined;
  const sha = await ctx.git.commit(worktree.path, { message: request.message, trailers: commitTrailers(request), ...(author === undefined ? {} : { author }) });
  const summary = summarizeChanges(files);
  await appendEvent(ctx.db, { actor: ctx.actor, action: "Committed", subject: `task/${request.task}`, commitSha: sha, payload: { branch, sha, session: request.session ?? null, command: request.command ?? null, ...summary, files: files.map((f) => f.path), allowedSecrets: request.allowSecrets ?? [] } });
  return { task: request.task, branch, sha, noop: false, files, summary };
}

async function checkBranch(ctx: WorkspaceContext, task: string, expected: string, actual: string | null): Promise<void> {
  const subject = `task/${task}`;
  if (actual !== null && isProtectedBranch(ctx.config, actual)) {
    throw await policyRefusal(ctx, { rule: "PROTECTED_BRANCH", subject, message: `the worktree of task ${task} is on protected branch "${actual}", which only receives gated merges; switch it back to ${expected} (git switch ${expected}) and commit there`, details: { branch: actual, expected } });
  }
  if (actual !== expected) {
    const on = actual === null ? "a detached HEAD" : `branch "${actual}"`;
    throw await policyRefusal(ctx, { rule: "WRONG_BRANCH", subject, message: `the worktree of task ${task} is on ${on}, not the task's branch "${expected}"; switch back (git switch ${expected}) and commit there`, details: { branch: actual, expected } });
  }
}

async function checkSecrets(ctx: WorkspaceContext, request: CommitRequest, path: string, files: readonly GitFileChange[]): Promise<void> {
  const allowed = new Set(request.allowSecrets ?? []);
  // Deleting a secret from the tree is fine; adding or changing one is not.
  const hits = files
    .filter((f) => f.change !== "deleted" && !allowed.has(f.path))
    .map((f) => ({ path: f.path, glob: matchSecret(f.path, ctx.config.policy.secretsDenylist) }))
    .filter((h): h is { path: string; glob: string } => h.glob !== null);
  if (hits.length === 0) return;
  await ctx.git.unstageAll(path);
  const listed = hits.map((h) => `${h.path} (matches ${h.glob})`).join(", ");
  throw await policyRefusal(ctx, {
    rule: "SECRET_FILE",
    subject: `task/${request.task}`,
    message: `refusing to commit ${hits.length === 1 ? "a file" : "files"} on the secrets denylist: ${listed}; delete ${hits.length === 1 ? "it" : "them"} or add to .gitignore, or if it holds no secret pass --allow-secret ${hits[0]!.path}`,
    details: { files: hits.map((h) => h.path), globs: hits.map((h) => h.glob) },
  });
}
