/**
 * Bringing a task's branch up to date with the integration head, in its
 * worktree, for the three strategies. A `merge` is computed from the commits
 * alone (`merge-tree`, then `commit-tree` with main as first parent) while the
 * worktree's clean-tree status is read, and the worktree then fast-forwards
 * to it: three git processes where a porcelain `merge` and its repair took
 * four, and the status no longer waits in line. Conflicts, and a branch that
 * brings nothing of its own, take git's porcelain path, which records them.
 */
import { GitError } from "../errors.js";
import type { GitMergeTreeResult, GitObjectReader, GitUpdateResult } from "../ports.js";
import type { MergeRecord } from "../../state/merges.repository.js";
import type { WorkspaceContext } from "./context.js";

/** The worktree-independent part of a merge, computed while the worktree is checked. */
export interface MergePlan {
  /** The branch head the merge was computed from. */
  readonly branchHead: string;
  /** null: merge-tree could not say (the porcelain path decides and reports). */
  readonly built: GitMergeTreeResult | null;
}

/** Starts computing the merge of `targetHead` and the worktree's HEAD (merge strategy only; null otherwise). */
export async function planMerge(ctx: WorkspaceContext, merge: MergeRecord, path: string, targetHead: string | null): Promise<MergePlan | null> {
  if (merge.strategy !== "merge" || targetHead === null) return null;
  const branchHead = await ctx.git.resolveCommit(path, "HEAD");
  if (branchHead === null) return null;
  // NOTE: any failure here (unrelated histories, a missing object) is git merge's to report on the porcelain path.
  const built = await ctx.git.mergeTree(path, targetHead, branchHead).catch(() => null);
  return { branchHead, built };
}

/** The message of the merge commit gaffer lands. */
export function mergeMessage(merge: MergeRecord): string {
  return `Merge ${merge.branch} into ${merge.target}\n\nGaffer-Task: ${merge.task}\n`;
}

/**
 * Brings the worktree at `path` (on the branch at `branchHead`, clean) up to
 * date with `targetHead`. `plan` is the merge computed meanwhile, used when it
 * was computed from this very branch head and is a clean merge that adds
 * something to the target.
 */
export async function bringUpToDate(ctx: WorkspaceContext, input: { readonly merge: MergeRecord; readonly path: string; readonly targetHead: string; readonly branchHead: string; readonly plan: MergePlan | null; readonly objects?: GitObjectReader }): Promise<GitUpdateResult> {
  const { merge, path, targetHead, branchHead } = input;
  if (merge.strategy === "rebase") return ctx.git.rebaseOnto(path, targetHead);
  if (merge.strategy === "squash") {
    const subjects = await ctx.git.subjects(path, targetHead, branchHead);
    const message = `${subjects.at(-1) ?? `chore: squash ${merge.branch}`}\n\n${subjects.map((s) => `* ${s}`).join("\n")}\n\nGaffer-Task: ${merge.task}\n`;
    return ctx.git.squashOnto(path, targetHead, message);
  }
  const tree = input.plan?.branchHead === branchHead && input.plan.built?.kind === "clean" ? input.plan.built.tree : null;
  if (tree !== null && input.objects !== undefined && (await addsToTarget(input.objects, targetHead, tree))) {
    const commit = await ctx.git.commitTree(path, { tree, parents: [targetHead, branchHead], message: mergeMessage(merge) });
    const problem = await ctx.git.fastForwardCheckout(path, commit);
    if (problem !== null) throw new GitError(`the worktree of task ${merge.task} (${path}) could not move to its merge commit ${commit.slice(0, 12)}: ${problem}; nothing was merged, clear what git names and merge again`, { details: { path, commit, problem } });
    return { kind: "done" };
  }
  return ctx.git.mergeCommitOnto(path, targetHead, mergeMessage(merge));
}

/** Whether the merged tree differs from the target's (else the branch brings nothing, and git's porcelain rules decide). */
async function addsToTarget(objects: GitObjectReader, targetHead: string, tree: string): Promise<boolean> {
  const [targetTree] = await objects.ids([`${targetHead}^{tree}`]).catch(() => [null]);
  return targetTree !== null && targetTree !== undefined && targetTree !== tree;
}
