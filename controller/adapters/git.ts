/**
 * The git adapter: every call is one `git` process started by execa with an
 * argv array (never a shell string). simple-git is not used on these paths:
 * it measured ~4x slower for `worktree add`, and each operation here is a
 * single plumbing/porcelain call whose `-z` output git-parse.ts reads.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { GitError } from "../errors.js";
import type { Git, GitCommitSummary, GitStatus, GitUpdateResult, GitWorktreeEntry } from "../ports.js";
import { parseDiffTree, parsePathList, parseStatusV2, parseWorktreeList } from "./git-parse.js";

/** What one git process returned. */
export interface GitOutput {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

export interface GitRunOptions {
  /** Exit codes that are answers, not failures (e.g. 1 for `merge-base --is-ancestor`). */
  readonly ok?: readonly number[];
  /** Text for stdin. */
  readonly input?: string;
}

// NOTE: LC_ALL=C keeps messages parseable; GIT_EDITOR/GIT_MERGE_AUTOEDIT stop git from ever opening an editor.
const GIT_ENV = { LC_ALL: "C", GIT_TERMINAL_PROMPT: "0", GIT_EDITOR: "true", GIT_MERGE_AUTOEDIT: "no" };

/** Runs `git ARGS` in `cwd`; a non-zero exit not listed in `ok` throws GitError with command, cwd, exit code and stderr. */
export async function runGit(cwd: string, args: readonly string[], options: GitRunOptions = {}): Promise<GitOutput> {
  const result = await execa("git", args, { cwd, reject: false, env: GIT_ENV, stripFinalNewline: false, ...(options.input === undefined ? {} : { input: options.input }) });
  const exitCode = result.exitCode ?? -1;
  const output = { stdout: String(result.stdout), stderr: String(result.stderr), exitCode };
  if (exitCode === 0 || (options.ok ?? []).includes(exitCode)) return output;
  const firstLine = output.stderr.trim().split("\n").find((l) => l.length > 0) ?? result.shortMessage ?? "no output";
  throw new GitError(`git ${args.join(" ")} failed in ${cwd} (exit ${exitCode}): ${firstLine}`, {
    cause: result,
    details: { command: ["git", ...args], cwd, exitCode, stderr: output.stderr },
  });
}

async function unmergedFiles(cwd: string): Promise<string[]> {
  return parsePathList((await runGit(cwd, ["diff", "--name-only", "-z", "--diff-filter=U"])).stdout);
}

/** A finished-with-conflicts merge/rebase (exit 1 and unmerged paths), else a GitError. */
async function conflictOrThrow(cwd: string, out: GitOutput, args: readonly string[]): Promise<GitUpdateResult> {
  if (out.exitCode === 0) return { kind: "done" };
  const files = await unmergedFiles(cwd);
  if (files.length > 0) return { kind: "conflict", files };
  throw new GitError(`git ${args.join(" ")} failed in ${cwd} (exit ${out.exitCode}): ${out.stderr.trim() || out.stdout.trim()}`, { details: { command: ["git", ...args], cwd, exitCode: out.exitCode, stderr: out.stderr } });
}

/** The real Git port over the `git` binary. */
export class GitCli implements Git {
  async isValidBranchName(repo: string, name: string): Promise<boolean> {
    return (await runGit(repo, ["check-ref-format", "--branch", name], { ok: [1, 128] })).exitCode === 0;
  }

  async resolveCommit(cwd: string, rev: string): Promise<string | null> {
    const out = await runGit(cwd, ["rev-parse", "--verify", "-q", `${rev}^{commit}`], { ok: [1] });
    return out.exitCode === 0 ? out.stdout.trim() : null;
  }

  async isAncestor(cwd: string, ancestor: string, descendant: string): Promise<boolean> {
    return (await runGit(cwd, ["merge-base", "--is-ancestor", ancestor, descendant], { ok: [1] })).exitCode === 0;
  }

  async listWorktrees(repo: string): Promise<GitWorktreeEntry[]> {
    return parseWorktreeList((await runGit(repo, ["worktree", "list", "--porcelain"])).stdout);
  }

  async addWorktree(repo: string, spec: { path: string; branch: string; createFrom?: string }): Promise<void> {
    const args = spec.createFrom === undefined ? ["worktree", "add", "-q", spec.path, spec.branch] : ["worktree", "add", "-q", "-b", spec.branch, spec.path, spec.createFrom];
    await runGit(repo, args);
  }

  async removeWorktree(repo: string, path: string, options: { force: boolean }): Promise<void> {
    await runGit(repo, ["worktree", "remove", ...(options.force ? ["--force"] : []), path]);
  }

  async status(cwd: string): Promise<GitStatus> {
    return parseStatusV2((await runGit(cwd, ["status", "--porcelain=v2", "-z", "--branch", "--untracked-files=all"])).stdout);
  }

  async stageAll(cwd: string): Promise<void> {
    await runGit(cwd, ["add", "-A"]);
  }

  async commit(cwd: string, spec: { message: string; trailers: readonly (readonly [string, string])[] }): Promise<GitCommitSummary> {
    const trailers = spec.trailers.flatMap(([key, value]) => ["--trailer", `${key}: ${value}`]);
    await runGit(cwd, ["commit", "-q", "--no-edit", "-F", "-", ...trailers], { input: spec.message });
    return this.describeCommit(cwd, "HEAD");
  }

  /** The commit and its changes against its first parent. */
  async describeCommit(cwd: string, rev: string): Promise<GitCommitSummary> {
    return parseDiffTree((await runGit(cwd, ["diff-tree", "-r", "-z", "--no-renames", "--root", "--raw", "--numstat", rev])).stdout);
  }

  async snapshotToBranch(cwd: string, spec: { branch: string; message: string }): Promise<string> {
    await runGit(cwd, ["add", "-A"]);
    const tree = (await runGit(cwd, ["write-tree"])).stdout.trim();
    const commit = (await runGit(cwd, ["commit-tree", tree, "-p", "HEAD", "-F", "-"], { input: spec.message })).stdout.trim();
    // An empty old value: the salvage branch must not exist yet (never overwrite one).
    await runGit(cwd, ["update-ref", "-m", "gaffer: salvage", `refs/heads/${spec.branch}`, commit, ""]);
    return commit;
  }

  async mergeInto(cwd: string, rev: string, message: string): Promise<GitUpdateResult> {
    const args = ["merge", "--no-edit", "-m", message, rev];
    return conflictOrThrow(cwd, await runGit(cwd, args, { ok: [1] }), args);
  }

  async rebaseOnto(cwd: string, rev: string): Promise<GitUpdateResult> {
    const args = ["rebase", "--no-autostash", rev];
    return conflictOrThrow(cwd, await runGit(cwd, args, { ok: [1] }), args);
  }

  async squashOnto(cwd: string, rev: string, message: string): Promise<GitUpdateResult> {
    const merged = await this.mergeInto(cwd, rev, message);
    if (merged.kind === "conflict") return merged;
    const tree = (await runGit(cwd, ["rev-parse", "HEAD^{tree}"])).stdout.trim();
    const base = (await runGit(cwd, ["rev-parse", `${rev}^{tree}`])).stdout.trim();
    if (tree === base) return merged; // nothing of the branch's own left to squash
    const commit = (await runGit(cwd, ["commit-tree", tree, "-p", rev, "-F", "-"], { input: message })).stdout.trim();
    // NOTE: the index already holds exactly this tree, so a soft reset moves the branch without touching files.
    await runGit(cwd, ["reset", "-q", "--soft", commit]);
    return merged;
  }

  async abortInProgress(cwd: string): Promise<void> {
    const gitDir = (await runGit(cwd, ["rev-parse", "--absolute-git-dir"])).stdout.trim();
    if (existsSync(join(gitDir, "rebase-merge")) || existsSync(join(gitDir, "rebase-apply"))) await runGit(cwd, ["rebase", "--abort"]);
    if (existsSync(join(gitDir, "MERGE_HEAD"))) await runGit(cwd, ["merge", "--abort"]);
    const left = (await this.status(cwd)).entries.filter((e) => e.code !== "??");
    if (left.length > 0) {
      throw new GitError(`abort left ${cwd} with changes (${left.map((e) => e.path).join(", ")}); inspect it with \`git -C ${cwd} status\``, { details: { cwd, files: left.map((e) => e.path) } });
    }
  }

  async updateRef(repo: string, spec: { ref: string; newSha: string; oldSha: string; reason: string }): Promise<boolean> {
    const out = await runGit(repo, ["update-ref", "-m", spec.reason, spec.ref, spec.newSha, spec.oldSha], { ok: [128] });
    if (out.exitCode === 0) return true;
    const now = await this.resolveCommit(repo, spec.ref);
    if (now !== spec.oldSha) return false;
    throw new GitError(`git update-ref ${spec.ref} failed in ${repo}: ${out.stderr.trim()}`, { details: { command: ["git", "update-ref", spec.ref], cwd: repo, exitCode: out.exitCode, stderr: out.stderr } });
  }

  async syncCheckout(path: string, spec: { from: string; to: string; dryRun: boolean }): Promise<string | null> {
    const args = ["read-tree", "-m", "-u", ...(spec.dryRun ? ["-n"] : []), spec.from, spec.to];
    const out = await runGit(path, args, { ok: [128] });
    return out.exitCode === 0 ? null : out.stderr.trim();
  }

  async conflictMarkerFindings(cwd: string, base: string): Promise<string[]> {
    const out = await runGit(cwd, ["diff", "--check", base], { ok: [2] });
    return out.stdout.split("\n").filter((l) => /conflict marker/.test(l));
  }

  async subjects(cwd: string, base: string, head: string): Promise<string[]> {
    const out = await runGit(cwd, ["log", "--reverse", "--format=%s", `${base}..${head}`]);
    return out.stdout.split("\n").filter((l) => l.length > 0);
  }

  async deleteBranch(repo: string, branch: string, options: { force: boolean }): Promise<void> {
    await runGit(repo, ["branch", options.force ? "-D" : "-d", branch]);
  }
}
