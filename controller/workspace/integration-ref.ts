/**
 * Landing a gated head on the integration branch: a guarded fast-forward
 * that also works while the branch is checked out elsewhere (the main
 * checkout, another worktree), moving those checkouts' files along with it.
 */
import { MergeBlockedError } from "../errors.js";
import { appendEvent } from "../../state/events.repository.js";
import { policyRefusal, targetRepoPath, type WorkspaceContext } from "./context.js";

export interface FastForward {
  readonly task: string;
  readonly target: string;
  /** The integration head the new head was built and gated on. */
  readonly from: string;
  readonly to: string;
}

/** `moved`: someone else moved the integration branch meanwhile; nothing was changed. */
export type FastForwardResult = { readonly kind: "moved" } | { readonly kind: "landed"; readonly synced: readonly string[] };

/**
 * Fast-forwards `refs/heads/<target>` from `from` to `to`. Never a rewrite
 * (POLICY_PROTECTED_BRANCH). Checkouts of the target are checked first with a
 * dry-run two-tree `read-tree -m -u` (git's checkout rules: local changes
 * survive unless the merge touches them), the ref moves with `update-ref`
 * guarded by its old value, then each checkout's index and files follow.
 */
export async function fastForwardIntegration(ctx: WorkspaceContext, ff: FastForward): Promise<FastForwardResult> {
  const repo = targetRepoPath(ctx);
  if (ff.from === ff.to) return { kind: "landed", synced: [] };
  if (!(await ctx.git.isAncestor(repo, ff.from, ff.to))) {
    throw await policyRefusal(ctx, { rule: "PROTECTED_BRANCH", subject: `task/${ff.task}`, message: `moving ${ff.target} from ${ff.from.slice(0, 12)} to ${ff.to.slice(0, 12)} is not a fast-forward; gaffer never rewrites an integration branch (no force-push), bring the branch up to date and merge again`, details: { from: ff.from, to: ff.to } });
  }
  // NOTE: git refuses to *check out* a branch twice, but nothing stops a ref update under a checkout; its index and files would then silently lag behind.
  const checkouts = (await ctx.git.listWorktrees(repo)).filter((e) => e.branch === ff.target && !e.bare && !e.prunable);
  for (const checkout of checkouts) {
    const problem = await ctx.git.syncCheckout(checkout.path, { from: ff.from, to: ff.to, dryRun: true });
    if (problem !== null) {
      throw new MergeBlockedError(`${ff.target} is checked out at ${checkout.path} with local changes this merge would overwrite (${problem.split("\n")[0]}); commit or stash them there, then run \`gaffer merge --task ${ff.task}\` again`, { details: { path: checkout.path, problem } });
    }
  }
  const moved = await ctx.git.updateRef(repo, { ref: `refs/heads/${ff.target}`, newSha: ff.to, oldSha: ff.from, reason: `gaffer: merge task ${ff.task}` });
  if (!moved) return { kind: "moved" };
  for (const checkout of checkouts) {
    const problem = await ctx.git.syncCheckout(checkout.path, { from: ff.from, to: ff.to, dryRun: false });
    if (problem !== null) {
      await appendEvent(ctx.db, { actor: ctx.actor, action: "CheckoutSyncFailed", subject: `task/${ff.task}`, payload: { path: checkout.path, problem, fix: `git -C ${checkout.path} read-tree -m -u ${ff.from} ${ff.to}` } });
    }
  }
  return { kind: "landed", synced: checkouts.map((c) => c.path) };
}
