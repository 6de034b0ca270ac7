import { isAbsolute, join, resolve } from "node:path";
import { runGit } from "./git.js";

/**
 * The files that change when a commit lands in the repo at `dir`: `HEAD`
 * and its reflog `logs/HEAD` (in the worktree's own git dir), the branch
 * refs and `packed-refs` (in the common dir: a linked worktree or a
 * `.git` file pointing elsewhere resolves to both). Never the index, which
 * read-only commands such as `git status` rewrite. Empty when `dir` is not
 * in a git repo.
 */
export async function commitTriggerPaths(dir: string): Promise<string[]> {
  const out = await runGit(dir, ["rev-parse", "--absolute-git-dir", "--git-common-dir"], { ok: [128] });
  if (out.exitCode !== 0) return [];
  const [gitDir, common] = out.stdout.trim().split("\n");
  if (gitDir === undefined || common === undefined) return [];
  const commonDir = isAbsolute(common) ? common : resolve(dir, common);
  return [join(gitDir, "HEAD"), join(gitDir, "logs", "HEAD"), join(commonDir, "refs", "heads"), join(commonDir, "packed-refs")];
}
