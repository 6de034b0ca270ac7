/**
 * create_worktree: one worktree per task under worktreeRoot, on the task's
 * branch, based on the integration head. Idempotent: the right worktree is
 * adopted, anything else at the path is reported (WORKTREE_CONFLICT), never
 * clobbered.
 */
import { existsSync } from "node:fs";
import type { TaskManifest } from "../core/manifest-types.js";
import { isProtectedBranch } from "../core/git-policy.js";
import { taskBranch } from "../core/project-config.js";
import { GitError, NotFoundError, WorktreeConflictError } from "../errors.js";
import type { GitBranch, GitWorktreeEntry } from "../ports.js";
import { appendEvent } from "../../state/events.repository.js";
import { immediateTransaction } from "../../state/ledger.js";
import { findActiveWorktree, insertWorktree, markWorktreeRemoved, type WorktreeRecord } from "../../state/worktrees.repository.js";
import { policyRefusal, requireTask, targetRepoPath, worktreeRootPath, type WorkspaceContext } from "./context.js";
import { canonicalPath, confineWorktreePath } from "./worktree-path.js";

export { listWorktrees, removeWorktree, type RemoveWorktreeResult, type WorktreeView } from "./worktree-removal.js";

/** What create_worktree did for one task. */
export interface WorktreeOutcome {
  readonly task: string;
  /** `created` (new checkout), `adopted` (found on disk, now in the ledger) or `unchanged`. */
  readonly action: "created" | "adopted" | "unchanged";
  readonly worktree: WorktreeRecord;
}

/** Facts shared by a batch: read once, not per task. */
interface BatchFacts {
  readonly repo: string;
  readonly root: string;
  readonly integrationSha: string;
  /** `git worktree list`, read only once a task needs it (its path exists, or its branch is checked out somewhere). */
  entries: GitWorktreeEntry[] | null;
  readonly branches: Map<string, GitBranch>;
}

async function readBatchFacts(ctx: WorkspaceContext, branchNames: readonly string[]): Promise<BatchFacts> {
  const repo = targetRepoPath(ctx);
  const integration = ctx.config.integrationBranch;
  const integrationSha = await ctx.git.resolveCommit(repo, `refs/heads/${integration}`);
  if (integrationSha === null) throw new NotFoundError(`integration branch "${integration}" does not exist in ${repo}; create it (git branch ${integration}) or set spec.integrationBranch`);
  return { repo, root: worktreeRootPath(ctx), integrationSha, entries: null, branches: await ctx.git.branches(repo, branchNames) };
}

/** The worktree list, read fresh (`again`) or once per batch. */
async function worktreeEntries(ctx: WorkspaceContext, facts: BatchFacts, again = false): Promise<GitWorktreeEntry[]> {
  if (facts.entries === null || again) facts.entries = (await ctx.git.listWorktrees(facts.repo)).map((e) => ({ ...e, path: canonicalPath(e.path) }));
  return facts.entries;
}

/** Refuses a branch gaffer must not work on: protected, or not a valid git branch name (asked of real git). */
async function checkTaskBranch(ctx: WorkspaceContext, repo: string, task: TaskManifest, branch: string): Promise<void> {
  const subject = `task/${task.metadata.name}`;
  if (isProtectedBranch(ctx.config, branch)) {
    throw await policyRefusal(ctx, { rule: "PROTECTED_BRANCH", subject, message: `task ${task.metadata.name} would work directly on protected branch "${branch}"; give the task its own branch (spec.branch or policy.branchPattern), protected branches only receive gated merges`, details: { branch } });
  }
  if (!(await ctx.git.isValidBranchName(repo, branch))) {
    throw await policyRefusal(ctx, { rule: "BRANCH_NAME", subject, message: `"${branch}" is not a valid git branch name (git check-ref-format --branch refused it); fix spec.branch or policy.branchPattern`, details: { branch } });
  }
}

/** Provisions (or adopts) the worktree of one task. */
export async function createWorktree(ctx: WorkspaceContext, taskName: string): Promise<WorktreeOutcome> {
  const [outcome] = await createWorktrees(ctx, [taskName]);
  return outcome!;
}

/** Provisions the worktrees of several tasks (e.g. all tasks of a stage), in order; stops at the first refusal. */
export async function createWorktrees(ctx: WorkspaceContext, taskNames: readonly string[]): Promise<WorktreeOutcome[]> {
  const tasks = taskNames.map((name) => requireTask(ctx, name));
  const branches = tasks.map((task) => taskBranch(ctx.config, task));
  const facts = await readBatchFacts(ctx, branches);
  const outcomes: WorktreeOutcome[] = [];
  for (const [i, task] of tasks.entries()) {
    await checkTaskBranch(ctx, facts.repo, task, branches[i]!);
    outcomes.push(await provision(ctx, facts, task, branches[i]!));
  }
  return outcomes;
}

async function provision(ctx: WorkspaceContext, facts: BatchFacts, task: TaskManifest, branch: string): Promise<WorktreeOutcome> {
  const path = confineWorktreePath(facts.root, task.metadata.name);
  const known = facts.branches.get(branch) ?? null;
  // NOTE: a new path on a branch checked out nowhere needs no worktree list: `worktree add` itself refuses anything stale there.
  if (existsSync(path) || (known !== null && known.checkout !== null)) {
    const entries = await worktreeEntries(ctx, facts);
    const entry = entries.find((e) => e.path === path);
    if (entry !== undefined) return adopt(ctx, task, entry, path, branch);
    if (existsSync(path)) {
      throw new WorktreeConflictError(`${path} exists but is not a worktree of ${facts.repo} (stale or foreign); move it away or delete it, then run again`, { details: { path, task: task.metadata.name } });
    }
    const holder = entries.find((e) => e.branch === branch);
    if (holder !== undefined) {
      throw new WorktreeConflictError(`branch ${branch} is already checked out at ${holder.path}; remove that worktree (git worktree remove ${holder.path}) or give task ${task.metadata.name} another branch`, { details: { branch, path: holder.path } });
    }
  }
  // A branch whose work all landed (a Merged task run again because its spec changed) restarts from the integration head.
  const landed = known !== null && known.sha !== facts.integrationSha && (await ctx.git.isAncestor(facts.repo, known.sha, facts.integrationSha));
  const existing = landed || known === null ? null : known.sha;
  try {
    await ctx.git.addWorktree(facts.repo, existing === null ? { path, branch, createFrom: facts.integrationSha, ...(landed ? { reset: true } : {}) } : { path, branch });
  } catch (error) {
    // Another process may have created exactly this worktree meanwhile (or a stale one is registered there): adopt or report it.
    const raced = (await worktreeEntries(ctx, facts, true)).find((e) => e.path === path);
    if (raced !== undefined && error instanceof GitError) return adopt(ctx, task, raced, path, branch);
    throw error;
  }
  const baseSha = existing ?? facts.integrationSha;
  facts.entries?.push({ path, head: baseSha, branch, bare: false, prunable: false });
  facts.branches.set(branch, { sha: baseSha, checkout: path });
  const worktree = await record(ctx, task, { path, branch, baseSha }, "WorktreeCreated", { existingBranch: existing !== null, ...(landed ? { restartedFrom: known!.sha } : {}) });
  return { task: task.metadata.name, action: "created", worktree };
}

async function adopt(ctx: WorkspaceContext, task: TaskManifest, entry: GitWorktreeEntry, path: string, branch: string): Promise<WorktreeOutcome> {
  const name = task.metadata.name;
  if (entry.prunable) {
    throw new WorktreeConflictError(`git lists a worktree at ${path} but its directory is gone (stale); run \`git worktree prune\` in the target repo, then run again`, { details: { path, task: name } });
  }
  if (entry.branch !== branch) {
    const on = entry.branch === null ? `detached at ${entry.head?.slice(0, 12) ?? "?"}` : `on branch ${entry.branch}`;
    throw new WorktreeConflictError(`${path} is a worktree ${on}, not on ${branch} (foreign); remove it (git worktree remove ${path}) or rename the task`, { details: { path, task: name, branch: entry.branch } });
  }
  const active = await findActiveWorktree(ctx.db, name);
  if (active !== null && active.path === path && active.branch === branch) return { task: name, action: "unchanged", worktree: active };
  const worktree = await record(ctx, task, { path, branch, baseSha: entry.head ?? "" }, "WorktreeAdopted", {});
  return { task: name, action: "adopted", worktree };
}

/** Ledgers the worktree (retiring a stale row of the same task) and its event, in one transaction. */
async function record(ctx: WorkspaceContext, task: TaskManifest, where: { path: string; branch: string; baseSha: string }, action: string, extra: Record<string, unknown>): Promise<WorktreeRecord> {
  return immediateTransaction(ctx.db, async (trx) => {
    const previous = await findActiveWorktree(trx, task.metadata.name);
    if (previous !== null) await markWorktreeRemoved(trx, previous.id);
    const row = await insertWorktree(trx, { task: task.metadata.name, stage: task.spec.stage, role: task.spec.role, ...where });
    await appendEvent(trx, { actor: ctx.actor, action, subject: `task/${task.metadata.name}`, payload: { path: row.path, branch: row.branch, baseSha: row.baseSha, stage: row.stage, role: row.role, ...(previous === null ? {} : { replaced: previous.id }), ...extra } });
    return row;
  });
}
