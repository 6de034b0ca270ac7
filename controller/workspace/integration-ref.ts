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
  /** The caller built `to` on top of `from` (merge, rebase or squash onto it): skip the ancestry check. */
  readonly descendantKnown?: boolean;
}

/** `moved`: someone else moved the integration branch meanwhile; nothing was changed. */
export type FastForwardResult = { readonly kind: "moved" } | { readonly kind: "landed"; readonly synced: readonly string[] };

/**
 * Fast-forwards `refs/heads/<target>` from `from` to `to`. Never a rewrite
 * (POLICY_PROTECTED_BRANCH). Each checkout of the target first moves its
 * index and files with a two-tree `read-tree -m -u from to` (git's checkout
 * rules: local changes survive unless the merge touches them, and a refusal
 * changes nothing); then the ref moves with `update-ref` guarded by its old
 * value. If the guard fails, the checkouts are moved back.
 */
export async function fastForwardIntegration(ctx: WorkspaceContext, ff: FastForward): Promise<FastForwardResult> {
  const repo = targetRepoPath(ctx);
  if (ff.from === ff.to) return { kind: "landed", synced: [] };
  if (ff.descendantKnown !== true && !(await ctx.git.isAncestor(repo, ff.from, ff.to))) {
    throw await policyRefusal(ctx, { rule: "PROTECTED_BRANCH", subject: `task/${ff.task}`, message: `moving ${ff.target} from ${ff.from.slice(0, 12)} to ${ff.to.slice(0, 12)} is not a fast-forward; gaffer never rewrites an integration branch (no force-push), bring the branch up to date and merge again`, details: { from: ff.from, to: ff.to } });
  }
  // NOTE: git refuses to *check out* a branch twice, but nothing stops a ref update under a checkout; its index and files would then silently lag behind.
  const checkouts = await ctx.git.checkoutsOf(repo, ff.target);
  if (checkouts.length === 1) return fastForwardInCheckout(ctx, ff, checkouts[0]!);
  const synced: string[] = [];
  for (const checkout of checkouts) {
    const problem = await ctx.git.syncCheckout(checkout, { from: ff.from, to: ff.to, dryRun: false });
    if (problem !== null) {
      await undoSync(ctx, ff, synced);
      throw blocked(ff, checkout, problem);
    }
    synced.push(checkout);
  }
  const moved = await ctx.git.updateRef(repo, { ref: `refs/heads/${ff.target}`, newSha: ff.to, oldSha: ff.from, reason: `gaffer: merge task ${ff.task}` });
  if (!moved) {
    await undoSync(ctx, ff, synced);
    return { kind: "moved" };
  }
  return { kind: "landed", synced };
}

function blocked(ff: FastForward, path: string, problem: string): MergeBlockedError {
  return new MergeBlockedError(`${ff.target} is checked out at ${path} with local changes this merge would overwrite (${problem}); commit or stash them there, then run \`gaffer merge --task ${ff.task}\` again`, { details: { path, problem } });
}

/**
 * The usual case, the branch checked out in one place (e.g. the main
 * checkout): `merge --ff-only` there moves ref, index and files in one step
 * and refuses, changing nothing, when local changes would be overwritten.
 * It lands exactly `to`, the gated commit; the ref is re-checked first so a
 * branch moved by someone else is reported, not merged over.
 */
async function fastForwardInCheckout(ctx: WorkspaceContext, ff: FastForward, checkout: string): Promise<FastForwardResult> {
  if ((await ctx.git.resolveCommit(checkout, `refs/heads/${ff.target}`)) !== ff.from) return { kind: "moved" };
  const problem = await ctx.git.fastForwardCheckout(checkout, ff.to);
  if (problem !== null) throw blocked(ff, checkout, problem);
  return { kind: "landed", synced: [checkout] };
}

/** Moves already-synced checkouts back to `from` (the ref did not move after all). */
async function undoSync(ctx: WorkspaceContext, ff: FastForward, paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    const problem = await ctx.git.syncCheckout(path, { from: ff.to, to: ff.from, dryRun: false });
    if (problem !== null) await appendEvent(ctx.db, { actor: ctx.actor, action: "CheckoutSyncFailed", subject: `task/${ff.task}`, payload: { path, problem, fix: `git -C ${path} read-tree -m -u ${ff.to} ${ff.from}` } });
  }
}
