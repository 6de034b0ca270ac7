import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RUN_DIR_ENV } from "./run-dir.js";
import { tempDir } from "./temp.js";

/** Runs git in `cwd` and returns trimmed stdout. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd, encoding: "utf8", env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1" } }).trim();
}

/** `git init` on `main` with a local identity, gc off and no signing (what every test repo starts from). */
export function initRepo(dir: string, options: { email?: string; name?: string } = {}): void {
  git(dir, "init", "-q", "-b", "main");
  git(dir, "config", "user.email", options.email ?? "dev@example.com");
  git(dir, "config", "user.name", options.name ?? "Dev");
  git(dir, "config", "gc.auto", "0");
  git(dir, "config", "commit.gpgsign", "false");
}

/**
 * Makes `dir` (which must not exist) a copy of the repo `build` makes, built
 * once per test run and per `key` in the run dir (test/helpers/run-dir.ts
 * deletes it): a repo of its own, as if `build` had run in `dir`, but with no
 * git process for `git init`, its config and first commit (each a fork of the
 * big test process: ~300 repos a run cost ~2,000 of them). `key` names what
 * `build` makes: a different repo needs a different key. The copied index
 * carries the template's file stat data, so a repo with an index is
 * refreshed (one git process), or plumbing such as `git diff-files` would
 * call the copied files modified. Outside a vitest run (no run dir) `build`
 * runs in `dir` itself.
 */
export function copyRepoTemplate(dir: string, key: string, build: (dir: string) => void): void {
  const runDir = process.env[RUN_DIR_ENV];
  if (runDir === undefined) {
    mkdirSync(dir, { recursive: true });
    build(dir);
    return;
  }
  const template = join(runDir, "git-templates", createHash("sha1").update(key).digest("hex").slice(0, 16));
  if (!existsSync(template)) {
    // Built aside, then renamed whole: a file that builds the same template at once uses whichever rename won.
    const tmp = `${template}.${process.pid}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    build(tmp);
    try {
      renameSync(tmp, template);
    } catch {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  cpSync(template, dir, { recursive: true, preserveTimestamps: true });
  if (existsSync(join(dir, ".git", "index"))) git(dir, "update-index", "-q", "--refresh");
}

/**
 * A real git repo in a temp dir: `main`, a local identity, gc off, one
 * commit. The repo is `<temp>/repo`, so what gaffer puts beside it (the
 * default worktree root `repo.gaffer-worktrees`) is removed with the temp dir.
 * It is a copy of the run's template for these options (copyRepoTemplate).
 */
export function gitRepo(options: { email?: string; name?: string } = {}): string {
  const dir = join(tempDir("gaffer-repo-"), "repo");
  copyRepoTemplate(dir, `git-repo ${JSON.stringify([options.email, options.name])}`, (repo) => {
    initRepo(repo, options);
    writeFileSync(join(repo, "README.md"), "# target\n");
    git(repo, "add", "README.md");
    git(repo, "commit", "-q", "-m", "chore: initial commit");
  });
  return dir;
}
