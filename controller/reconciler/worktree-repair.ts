import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { execa } from "execa";

/**
 * Rolls back a `git worktree add` that a killed controller left half done:
 * git admin entries (`.git/worktrees/*`) missing their `gitdir`/`commondir`
 * files make every later worktree command fail, so they are removed; then
 * the half-populated directory at our own path (only ours: the effect journal
 * says we were creating it) goes, and `git worktree prune` tidies the rest.
 */
export async function rollBackWorktreeAdd(repo: string, path: string): Promise<void> {
  const admin = join(repo, ".git", "worktrees");
  if (existsSync(admin)) {
    for (const entry of readdirSync(admin)) {
      const dir = join(admin, entry);
      const gitdir = join(dir, "gitdir");
      const broken = !existsSync(join(dir, "commondir")) || !existsSync(gitdir) || !existsSync(join(dir, "HEAD"));
      const ours = existsSync(gitdir) && resolve(readFileSync(gitdir, "utf8").trim()) === resolve(path, ".git");
      if (broken || ours) rmSync(dir, { recursive: true, force: true });
    }
  }
  rmSync(path, { recursive: true, force: true });
  await execa("git", ["worktree", "prune"], { cwd: repo, reject: false });
}
