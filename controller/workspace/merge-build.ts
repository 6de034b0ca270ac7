/**
 * Bringing a task's branch up to date with the integration head, in its
 * worktree, for the three strategies. A `merge` is computed from the commits
 * alone (`merge-tree`, then `commit-tree` with main as first parent) and the
 * worktree fast-forwards to it with `git rebase`, which refuses an unclean
 * tree in that same process: three git processes where a clean-tree `status`,
 * a porcelain `merge` and its repair took four. A branch that has the target
 * among its last first parents needs no `merge-tree`: its own tree is the
 * merge's. Conflicts, and a branch that
 * brings nothing of its own, take git's porcelain path (status first), which
 * records them, as does a branch that is already the target merged (a
 * merge stopped between the worktree's commit and the target's move).
 */
import { GitError } from "../errors.js";
import type { GitObjectReader, GitUpdateResult } from "../ports.js";
import type { MergeRecord } from "../../state/merges.repository.js";
import type { WorkspaceContext } from "./context.js";

/** A merge computed from the commits, ready to commit: `tree` merges `targetHead` and `branchHead` cleanly and differs from the target's. */
export interface MergePlan {
  readonly targetHead: string;
  readonly branchHead: string;
  readonly tree: string;
}

/**
 * The merge of `targetHead` and the worktree's HEAD computed without touching
 * the worktree (merge strategy only), or null when git's porcelain path must
 * decide: a conflict, a branch that adds nothing to the target, or any
 * failure (which `git merge` then reports in its own words).
 */
export async function planMerge(ctx: WorkspaceContext, input: { readonly merge: MergeRecord; readonly path: string; readonly targetHead: string; readonly objects?: GitObjectReader }): Promise<MergePlan | null> {
  if (input.merge.strategy !== "merge" || input.objects === undefined) return null;
  const branchHead = await ctx.git.resolveCommit(input.path, "HEAD");
  if (branchHead === null) return null;
  const ancestry = Array.from({ length: FIRST_PARENT_DEPTH - 1 }, (_, i) => `${branchHead}~${i + 2}`);
  const ids = await input.objects.ids([`${input.targetHead}^{tree}`, `${branchHead}^{tree}`, `${branchHead}^1`, `${branchHead}^2`, ...ancestry]).catch(() => [null]);
  const [targetTree, branchTree, firstParent, secondParent] = ids;
  if (targetTree === null || targetTree === undefined || branchTree === null || branchTree === undefined) return null;
  // The branch is this target merged already (an earlier attempt stopped before landing it): git's porcelain
  // finds it up to date and it lands as it is, never wrapped in a second merge commit of the same name.
  if (firstParent === input.targetHead && secondParent !== null && secondParent !== undefined) return null;
  // The target is on the branch's first-parent line: merging it changes nothing, the merged tree is the branch's.
  const onBranch = firstParent === input.targetHead || ids.slice(4).includes(input.targetHead);
  const tree = onBranch ? branchTree : await mergedTree(ctx, input.path, input.targetHead, branchHead);
  if (tree === null || tree === targetTree) return null;
  return { targetHead: input.targetHead, branchHead, tree };
}

/** How far back the branch's first parents are looked at for the target (a branch of a few commits on it needs no `merge-tree`). */
const FIRST_PARENT_DEPTH = 8;

/** The tree `merge-tree` writes for a clean merge; null on conflicts or any failure. */
async function mergedTree(ctx: WorkspaceContext, path: string, targetHead: string, branchHead: string): Promise<string | null> {
  const built = await ctx.git.mergeTree(path, targetHead, branchHead).catch(() => null);
  return built?.kind === "clean" ? built.tree : null;
}

/** The message of the merge commit gaffer lands. */
export function mergeMessage(merge: MergeRecord): string {
  return `Merge ${merge.branch} into ${merge.target}\n\nGaffer-Task: ${merge.task}\n`;
}

/** The refusal for a worktree with uncommitted changes, naming them (one `status`). */
export async function uncommittedError(ctx: WorkspaceContext, merge: MergeRecord, path: string): Promise<GitError | null> {
  // NOTE: untracked files never block a merge, so git need not look for them.
  const dirty = (await ctx.git.status(path, { untracked: false })).entries.filter((e) => e.code !== "??");
  if (dirty.length === 0) return null;
  return new GitError(`the worktree of task ${merge.task} has uncommitted changes (${dirty.map((e) => e.path).join(", ")}); commit them (gaffer commit --task ${merge.task} -m MSG) and merge again`);
}

/** Commits `plan` (main first parent) and moves the clean worktree at `path` to it; the commit. */
export async function landPlanInWorktree(ctx: WorkspaceContext, merge: MergeRecord, path: string, plan: MergePlan): Promise<string> {
  const commit = await ctx.git.commitTree(path, { tree: plan.tree, parents: [plan.targetHead, plan.branchHead], message: mergeMessage(merge) });
  const problem = await ctx.git.fastForwardIfClean(path, commit);
  if (problem === "unclean") throw (await uncommittedError(ctx, merge, path)) ?? new GitError(`the worktree of task ${merge.task} (${path}) changed while it was being merged; merge again`);
  if (problem !== null) {
    await ctx.git.abortInProgress(path);
    throw new GitError(`the worktree of task ${merge.task} (${path}) could not move to its merge commit ${commit.slice(0, 12)}: ${problem}; nothing was merged, clear what git names and merge again`, { details: { path, commit, problem } });
  }
  // NOTE: a commit made in the worktree meanwhile would have been replayed on top: never land what was not computed here.
  if ((await ctx.git.resolveCommit(path, "HEAD")) !== commit) throw new GitError(`the branch ${merge.branch} of task ${merge.task} moved while it was being merged; nothing was merged, run \`gaffer merge --task ${merge.task}\` again`, { details: { path, commit } });
  return commit;
}

/** Brings the clean worktree at `path` (on the branch at `branchHead`) up to date with `targetHead` through git's porcelain. */
export async function bringUpToDate(ctx: WorkspaceContext, input: { readonly merge: MergeRecord; readonly path: string; readonly targetHead: string; readonly branchHead: string }): Promise<GitUpdateResult> {
  const { merge, path, targetHead, branchHead } = input;
  if (merge.strategy === "rebase") return ctx.git.rebaseOnto(path, targetHead);
  if (merge.strategy === "squash") {
    const subjects = await ctx.git.subjects(path, targetHead, branchHead);
    const message = `${subjects.at(-1) ?? `chore: squash ${merge.branch}`}\n\n${subjects.map((s) => `* ${s}`).join("\n")}\n\nGaffer-Task: ${merge.task}\n`;
    return ctx.git.squashOnto(path, targetHead, message);
  }
  return ctx.git.mergeCommitOnto(path, targetHead, mergeMessage(merge));
}
