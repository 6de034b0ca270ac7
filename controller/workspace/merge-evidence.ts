/**
 * Whether a task's work already landed on its integration branch, whichever
 * process landed it: the ledger's `merged` row, or git itself (a commit on
 * the integration branch with the task's `Gaffer-Task` trailer, or the task
 * branch's own commits reachable from it). A landed task is recorded Merged,
 * never merged again and never reported as "no worktree to merge".
 */
import { findTask, taskBranch } from "../core/project-config.js";
import { appendEvent } from "../../state/events.repository.js";
import { immediateTransaction } from "../../state/ledger.js";
import { findMerge, findOpenMerge, insertMerge, setMergeState, type MergeRecord } from "../../state/merges.repository.js";
import { findActiveWorktree } from "../../state/worktrees.repository.js";
import { targetRepoPath, tellTask, type WorkspaceContext } from "./context.js";

/** How a landed merge was recognised, and the integration-branch commit that holds it. */
export interface LandedEvidence {
  readonly how: "ledger" | "trailer" | "ancestor";
  readonly sha: string;
}

/** The task's landed merge from the ledger, else from git; null when its work is not on the integration branch. */
export async function findLandedMerge(ctx: WorkspaceContext, taskName: string): Promise<LandedEvidence | null> {
  // Work committed on the task's branch since (a reopened task) is not landed, whatever was before.
  const active = await findActiveWorktree(ctx.db, taskName);
  if (active !== null && !(await isOnIntegration(ctx, `refs/heads/${active.branch}`))) return null;
  const row = await ctx.db.selectFrom("merges").select("merge_sha").where("task", "=", taskName).where("state", "=", "merged").orderBy("id", "desc").executeTakeFirst();
  if (row !== undefined) return { how: "ledger", sha: row.merge_sha ?? "" };
  return findLandedInGit(ctx, taskName);
}

async function isOnIntegration(ctx: WorkspaceContext, rev: string): Promise<boolean> {
  const repo = targetRepoPath(ctx);
  const sha = await ctx.git.resolveCommit(repo, rev);
  return sha !== null && ctx.git.isAncestor(repo, sha, `refs/heads/${ctx.config.integrationBranch}`);
}

/**
 * Git's evidence alone. The walk is limited to commits after the task's
 * worktree base when the ledger knows it; without it (a lost ledger) only
 * the trailer counts: a branch with no commits of its own is an ancestor too.
 */
export async function findLandedInGit(ctx: WorkspaceContext, taskName: string, trailers?: ReadonlyMap<string, string>): Promise<LandedEvidence | null> {
  const repo = targetRepoPath(ctx);
  const target = `refs/heads/${ctx.config.integrationBranch}`;
  const worktree = await ctx.db.selectFrom("worktrees").select(["branch", "base_sha"]).where("task", "=", taskName).orderBy("created_at", "desc").executeTakeFirst();
  const found = trailers ?? (await ctx.git.taskTrailers(repo, worktree === undefined ? target : `${worktree.base_sha}..${target}`));
  const sha = found.get(taskName);
  if (sha !== undefined) return { how: "trailer", sha };
  if (worktree === undefined) return null;
  const head = await ctx.git.resolveCommit(repo, `refs/heads/${worktree.branch}`);
  if (head === null || head === worktree.base_sha || !(await ctx.git.isAncestor(repo, head, target))) return null;
  return { how: "ancestor", sha: head };
}

/**
 * Records a merge recognised from git (its open request, or a new row, set
 * `merged`; a `MergeRecognized` event; the task Merged) and returns the row.
 * A merge the ledger already holds is returned as it is.
 */
export async function recordLandedMerge(ctx: WorkspaceContext, taskName: string, evidence: LandedEvidence): Promise<MergeRecord> {
  return immediateTransaction(ctx.db, async (trx) => {
    const known = await trx.selectFrom("merges").select("id").where("task", "=", taskName).where("state", "=", "merged").orderBy("id", "desc").executeTakeFirst();
    if (known !== undefined) return (await findMerge(trx, known.id))!;
    const task = findTask(ctx.manifests, taskName);
    const branch = task === undefined ? `unknown/${taskName}` : taskBranch(ctx.config, task);
    const open = (await findOpenMerge(trx, taskName)) ?? (await insertMerge(trx, { task: taskName, branch, target: ctx.config.integrationBranch, strategy: ctx.config.policy.mergeStrategy }));
    await setMergeState(trx, open.id, { state: "merged", headSha: evidence.sha, mergeSha: evidence.sha, reason: `recognised from git (${evidence.how})` });
    await appendEvent(trx, { actor: ctx.actor, action: "MergeRecognized", subject: `task/${taskName}`, commitSha: evidence.sha, payload: { merge: open.id, how: evidence.how, sha: evidence.sha, target: ctx.config.integrationBranch } });
    if (task !== undefined) await tellTask(ctx, trx, { name: taskName, stage: task.spec.stage, role: task.spec.role }, { event: { type: "task.merged" }, reason: `already on ${ctx.config.integrationBranch} at ${evidence.sha.slice(0, 12)} (${evidence.how})` });
    return (await findMerge(trx, open.id))!;
  });
}

/** The task's landed merge row (recording one recognised from git), or null when its work has not landed. */
export async function landedMergeRecord(ctx: WorkspaceContext, taskName: string): Promise<MergeRecord | null> {
  const evidence = await findLandedMerge(ctx, taskName);
  return evidence === null ? null : recordLandedMerge(ctx, taskName, evidence);
}
