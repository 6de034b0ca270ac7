import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./temp.js";

/** Runs git in `cwd` and returns trimmed stdout. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd, encoding: "utf8", env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1" } }).trim();
}

/**
 * A real git repo in a temp dir: `main`, a local identity, gc off, one
 * commit. The repo is `<temp>/repo`, so what gaffer puts beside it (the
 * default worktree root `repo.gaffer-worktrees`) is removed with the temp dir.
 */
export function gitRepo(options: { email?: string; name?: string } = {}): string {
  const dir = join(tempDir("gaffer-repo-"), "repo");
  mkdirSync(dir);
  git(dir, "init", "-q", "-b", "main");
  git(dir, "config", "user.email", options.email ?? "dev@example.com");
  git(dir, "config", "user.name", options.name ?? "Dev");
  git(dir, "config", "gc.auto", "0");
  git(dir, "config", "commit.gpgsign", "false");
  writeFileSync(join(dir, "README.md"), "# target\n");
  git(dir, "add", "README.md");
  git(dir, "commit", "-q", "-m", "chore: initial commit");
  return dir;
}
