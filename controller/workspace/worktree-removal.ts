/** `worktree remove` (never drops uncommitted work silently) and `worktree list`. */
import { existsSync } from "node:fs";
import { isProtectedBranch } from "../core/git-policy.js";
import { NotFoundError, PolicyError, UncommittedWorkError } from "../errors.js";
import { appendEvent } from "../../state/events.repository.js";
import { immediateTransaction } from "../../state/ledger.js";
import { findActiveWorktree, listWorktreeRecords, markWorktreeRemoved, type WorktreeRecord } from "../../state/worktrees.repository.js";
import { policyRefusal, targetRepoPath, type WorkspaceContext } from "./context.js";
import { canonicalPath } from "./worktree-path.js";

export interface RemoveWorktreeOptions {
  /** Remove even with uncommitted work, after committing it to a `gaffer/salvage/<task>-<time>` branch. */
  readonly force?: boolean;
  /** Also delete the task branch (refused for protected branches; git refuses an unmerged one unless force). */
  readonly deleteBranch?: boolean;
}

export interface RemoveWorktreeResult {
  readonly task: string;
  readonly path: string;
  readonly branch: string;
  /** Where uncommitted work was saved, when there was any. */
  readonly salvageBranch: string | null;
  readonly salvageSha: string | null;
}

/** `20250102T030405Z`: a timestamp that is a valid ref component. */
function refStamp(date = new Date()): string {
  return date.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
}

export async function removeWorktree(ctx: WorkspaceContext, task: string, options: RemoveWorktreeOptions = {}): Promise<RemoveWorktreeResult> {
  const worktree = await findActiveWorktree(ctx.db, task);
  if (worktree === null) throw new NotFoundError(`task ${task} has no active worktree (see \`gaffer get worktrees\`)`);
  const repo = targetRepoPath(ctx);
  if (options.deleteBranch === true && isProtectedBranch(ctx.config, worktree.branch)) {
    throw await policyRefusal(ctx, { rule: "PROTECTED_BRANCH", subject: `task/${task}`, message: `branch ${worktree.branch} is protected and is never deleted through gaffer; drop --delete-branch`, details: { branch: worktree.branch } });
  }
  let salvage: { branch: string; sha: string } | null = null;
  // NOTE: asked before removing: afterwards the directory is gone either way.
  const present = existsSync(worktree.path);
  if (present) {
    // NOTE: a plain `worktree remove` already refuses modified or untracked files, so the clean case costs one git call.
    const removed = await ctx.git.removeWorktree(repo, worktree.path, { force: false }).then(() => true, () => false);
    if (!removed) {
      salvage = await saveUncommitted(ctx, worktree, options.force === true);
      await ctx.git.removeWorktree(repo, worktree.path, { force: salvage !== null });
    }
  }
  if (options.deleteBranch === true) await ctx.git.deleteBranch(repo, worktree.branch, { force: options.force === true });
  await immediateTransaction(ctx.db, async (trx) => {
    await markWorktreeRemoved(trx, worktree.id);
    await appendEvent(trx, { actor: ctx.actor, action: "WorktreeRemoved", subject: `task/${task}`, payload: { path: worktree.path, branch: worktree.branch, salvageBranch: salvage?.branch ?? null, salvageSha: salvage?.sha ?? null, branchDeleted: options.deleteBranch === true, missing: !present } });
  });
  return { task, path: worktree.path, branch: worktree.branch, salvageBranch: salvage?.branch ?? null, salvageSha: salvage?.sha ?? null };
}

/** Null when the worktree is clean; refuses without force; with force commits the work to a salvage branch. */
async function saveUncommitted(ctx: WorkspaceContext, worktree: WorktreeRecord, force: boolean): Promise<{ branch: string; sha: string } | null> {
  const status = await ctx.git.status(worktree.path);
  if (status.entries.length === 0) return null;
  const files = status.entries.map((e) => e.path);
  const listed = files.slice(0, 5).join(", ") + (files.length > 5 ? `, and ${files.length - 5} more` : "");
  if (!force) {
    await appendEvent(ctx.db, { actor: ctx.actor, action: "WorktreeRemoveRefused", subject: `task/${worktree.task}`, payload: { path: worktree.path, files } });
    throw new UncommittedWorkError(`the worktree of task ${worktree.task} (${worktree.path}) has ${files.length} uncommitted change${files.length === 1 ? "" : "s"} (${listed}); commit them (gaffer commit --task ${worktree.task} -m MSG) or pass --force to save them on a gaffer/salvage/ branch first`, { details: { path: worktree.path, files } });
  }
  const branch = `gaffer/salvage/${worktree.task}-${refStamp()}`;
  if (!(await ctx.git.isValidBranchName(targetRepoPath(ctx), branch))) throw new PolicyError("BRANCH_NAME", `salvage branch "${branch}" is not a valid git branch name`);
  const sha = await ctx.git.snapshotToBranch(worktree.path, { branch, message: `chore(gaffer): salvage uncommitted work of task ${worktree.task}\n\nSaved by \`gaffer worktree remove --force\` from ${worktree.path} (branch ${worktree.branch}).\n\nGaffer-Task: ${worktree.task}\n` });
  await appendEvent(ctx.db, { actor: ctx.actor, action: "WorktreeSalvaged", subject: `task/${worktree.task}`, payload: { path: worktree.path, salvageBranch: branch, sha, files }, commitSha: sha });
  return { branch, sha };
}

/** A ledgered worktree with what git sees now. */
export interface WorktreeView extends WorktreeRecord {
  /** Git still lists the checkout and its directory exists. */
  readonly present: boolean;
  /** The commit checked out there now (null when absent). */
  readonly head: string | null;
}

/** Active worktrees from the ledger, checked against `git worktree list`. */
export async function listWorktrees(ctx: WorkspaceContext): Promise<WorktreeView[]> {
  const [records, entries] = await Promise.all([listWorktreeRecords(ctx.db), ctx.git.listWorktrees(targetRepoPath(ctx))]);
  return records.map((record) => {
    const entry = entries.find((e) => canonicalPath(e.path) === record.path && !e.prunable);
    return { ...record, present: entry !== undefined, head: entry?.head ?? null };
  });
}
