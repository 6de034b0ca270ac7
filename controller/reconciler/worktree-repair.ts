import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { runGit } from "../governance/git-cli.js";

/**
 * Git admin entries (`.git/worktrees/*`) missing their `gitdir`, `commondir`
 * or `HEAD` file are what a `git worktree add` killed halfway leaves behind;
 * they make every later worktree command of the repo fail ("failed to read
 * .git/worktrees/X/commondir"), so they are removed before provisioning. A
 * complete entry is never touched. Returns the entries removed.
 */
export function removeBrokenWorktreeEntries(repo: string, alsoFor?: string): string[] {
  const admin = join(repo, ".git", "worktrees");
  if (!existsSync(admin)) return [];
  const removed: string[] = [];
  for (const entry of readdirSync(admin)) {
    const dir = join(admin, entry);
    const gitdir = join(dir, "gitdir");
    const broken = !existsSync(join(dir, "commondir")) || !existsSync(gitdir) || !existsSync(join(dir, "HEAD"));
    const ours = alsoFor !== undefined && existsSync(gitdir) && resolve(readFileSync(gitdir, "utf8").trim()) === resolve(alsoFor, ".git");
    if (broken || ours) {
      rmSync(dir, { recursive: true, force: true });
      removed.push(entry);
    }
  }
  return removed;
}

/**
 * Rolls back a `git worktree add` that a killed controller left half done:
 * broken admin entries and the entry for our own path go, then the
 * half-populated directory at our own path (only ours: the effect journal
 * says we were creating it), and `git worktree prune` tidies the rest.
 */
export async function rollBackWorktreeAdd(repo: string, path: string): Promise<void> {
  removeBrokenWorktreeEntries(repo, path);
  rmSync(path, { recursive: true, force: true });
  await runGit(repo, ["worktree", "prune"], { check: false });
}
