/**
 * A merge built from commits alone: `merge-tree --write-tree` (git >= 2.38)
 * writes the merged tree or names the conflicted paths without touching a
 * checkout, and `commit-tree` makes the merge commit with the parents in the
 * order gaffer wants. Neither runs hooks, re-reads an index or starts git's
 * auto maintenance. The checkout then moves to the merge with a fast-forward
 * that refuses an unclean tree in the same process.
 */
import { GitError } from "../errors.js";
import type { GitMergeTreeResult } from "../ports.js";
import { SHA } from "./git-dir.js";
import { runGit } from "./git-run.js";

/** The tree merging `theirs` into `ours` gives, or the conflicted paths (nothing in `cwd`'s checkout changes). */
export async function mergeTree(cwd: string, ours: string, theirs: string): Promise<GitMergeTreeResult> {
  const args = ["merge-tree", "--write-tree", "-z", "--name-only", "--no-messages", ours, theirs];
  const out = await runGit(cwd, args, { ok: [1] });
  // NOTE: with -z: `<tree>\0`, then on conflicts one `<path>\0` per conflicted path.
  const [tree, ...paths] = out.stdout.split("\0").filter((t) => t.length > 0);
  if (tree !== undefined && SHA.test(tree)) {
    if (out.exitCode === 0) return { kind: "clean", tree };
    if (paths.length > 0) return { kind: "conflict", files: [...new Set(paths)] };
  }
  throw new GitError(`git ${args.join(" ")} failed in ${cwd} (exit ${out.exitCode}): ${out.stderr.trim() || "no tree written"}`, { details: { command: ["git", ...args], cwd, exitCode: out.exitCode, stderr: out.stderr } });
}

/** A new commit of `tree` with `parents` (in that order) and `message`; no ref moves. */
export async function commitTree(cwd: string, spec: { readonly tree: string; readonly parents: readonly string[]; readonly message: string }): Promise<string> {
  const out = await runGit(cwd, ["commit-tree", spec.tree, ...spec.parents.flatMap((p) => ["-p", p]), "-F", "-"], { input: spec.message });
  return out.stdout.trim();
}

// NOTE: with LC_ALL=C, `git rebase` refuses an unclean tree (before touching anything) with one of these.
const UNCLEAN = /cannot rebase: (You have unstaged changes|Your index contains uncommitted changes)/;

/**
 * Fast-forwards the branch checked out at `path` to `to` (a descendant of its
 * HEAD) only when nothing tracked is uncommitted: `git rebase` checks the
 * clean tree and moves ref, index and files in one process (untracked files
 * stay, unless `to` would overwrite them). `unclean`: refused for uncommitted
 * changes; otherwise git's complaint, or null when done.
 */
export async function fastForwardIfClean(path: string, to: string): Promise<"unclean" | string | null> {
  const out = await runGit(path, ["rebase", "-q", "--no-autostash", "--no-update-refs", to], { ok: [1, 128] });
  if (out.exitCode === 0) return null;
  if (UNCLEAN.test(out.stderr)) return "unclean";
  return out.stderr.trim().split("\n").map((l) => l.trim()).join(" ") || `git rebase exited ${out.exitCode}`;
}
