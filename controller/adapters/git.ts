/**
 * The git adapter: every call is one `git` process started by execa with an
 * argv array (never a shell string). simple-git is not used on these paths:
 * it measured ~4x slower for `worktree add`, and each operation here is a
 * single plumbing/porcelain call whose `-z` output git-parse.ts reads.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { appendTrailers } from "../core/commit-trailers.js";
import { GitError } from "../errors.js";
import type { Git, GitBranch, GitFileChange, GitObjectReader, GitStatus, GitUpdateResult, GitWorktreeEntry } from "../ports.js";
import { CatFileReader } from "./git-objects.js";
import { commitTree, fastForwardIfClean, mergeTree } from "./git-merge-tree.js";
import { GIT_ENV, runGit, type GitOutput } from "./git-run.js";
import { checkoutsFromGitDir, gitDirFromFiles, readBranchesFromGitDir, readLooseRef, SHA } from "./git-dir.js";
import { isPlainBranchName, parseCommitSha, parsePathList, parseRawNumstat, parseRefList, parseStatusV2, parseWorktreeList } from "./git-parse.js";

export { runGit, type GitOutput, type GitRunOptions } from "./git-run.js";

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

/** The git dir of a checkout, from its files, else asked of git. */
async function gitDir(cwd: string): Promise<string> {
  return (await gitDirFromFiles(cwd)) ?? (await runGit(cwd, ["rev-parse", "--absolute-git-dir"])).stdout.trim();
}

/** The real Git port over the `git` binary. */
export class GitCli implements Git {
  async isValidBranchName(repo: string, name: string): Promise<boolean> {
    // NOTE: a plainly valid name (a strict subset of git's rules) needs no process; anything else is asked of git.
    if (isPlainBranchName(name)) return true;
    return (await runGit(repo, ["check-ref-format", "--branch", name], { ok: [1, 128] })).exitCode === 0;
  }

  async resolveCommit(cwd: string, rev: string): Promise<string | null> {
    const dir = rev === "HEAD" || rev.startsWith("refs/heads/") ? await gitDirFromFiles(cwd) : null;
    const loose = dir === null ? null : await readLooseRef(dir, rev);
    if (loose !== null) return loose;
    const out = await runGit(cwd, ["rev-parse", "--verify", "-q", `${rev}^{commit}`], { ok: [1] });
    return out.exitCode === 0 ? out.stdout.trim() : null;
  }

  async isAncestor(cwd: string, ancestor: string, descendant: string): Promise<boolean> {
    return (await runGit(cwd, ["merge-base", "--is-ancestor", ancestor, descendant], { ok: [1] })).exitCode === 0;
  }

  async listWorktrees(repo: string): Promise<GitWorktreeEntry[]> {
    return parseWorktreeList((await runGit(repo, ["worktree", "list", "--porcelain"])).stdout);
  }

  async addWorktree(repo: string, spec: { path: string; branch: string; createFrom?: string; reset?: boolean }): Promise<void> {
    const args = spec.createFrom === undefined ? ["worktree", "add", "-q", spec.path, spec.branch] : ["worktree", "add", "-q", spec.reset === true ? "-B" : "-b", spec.branch, spec.path, spec.createFrom];
    await runGit(repo, args);
  }

  async removeWorktree(repo: string, path: string, options: { force: boolean }): Promise<void> {
    await runGit(repo, ["worktree", "remove", ...(options.force ? ["--force"] : []), path]);
  }

  async status(cwd: string, options: { readonly untracked?: boolean } = {}): Promise<GitStatus> {
    const untracked = options.untracked === false ? "--untracked-files=no" : "--untracked-files=all";
    return parseStatusV2((await runGit(cwd, ["status", "--porcelain=v2", "-z", "--branch", untracked])).stdout);
  }

  async stageAll(cwd: string): Promise<void> {
    await runGit(cwd, ["add", "-A"]);
  }

  async currentBranch(cwd: string): Promise<string | null> {
    // NOTE: a few bytes from the local git dir: read in place (see git-dir.ts).
    const head = readFileSync(join(await gitDir(cwd), "HEAD"), "utf8").trim();
    return head.startsWith("ref: refs/heads/") ? head.slice("ref: refs/heads/".length) : null;
  }

  async branches(repo: string, names: readonly string[]): Promise<Map<string, GitBranch>> {
    // NOTE: a few small files of the git dir where its layout is the plain one (see git-dir.ts), else one for-each-ref.
    const fromFiles = readBranchesFromGitDir(await gitDir(repo), names, isPlainBranchName);
    if (fromFiles !== null) return fromFiles;
    const all = parseRefList((await runGit(repo, ["for-each-ref", "--format=%(refname:short)%00%(objectname)%00%(worktreepath)", "refs/heads"])).stdout);
    return new Map(names.flatMap((name) => (all.has(name) ? [[name, all.get(name)!] as const] : [])));
  }

  async stagedChanges(cwd: string): Promise<GitFileChange[]> {
    const out = await runGit(cwd, ["diff", "--cached", "-z", "--no-renames", "--raw", "--numstat"]);
    return parseRawNumstat(out.stdout.split("\0").filter((t) => t.length > 0));
  }

  async unstageAll(cwd: string): Promise<void> {
    await runGit(cwd, ["reset", "-q"]);
  }

  async commit(cwd: string, spec: { message: string; trailers: readonly (readonly [string, string])[]; author?: { name: string; email: string } }): Promise<string> {
    // NOTE: `--trailer` starts a `git interpret-trailers` per commit; where the result is certain, the message carries them already.
    const withTrailers = appendTrailers(spec.message, spec.trailers);
    const trailers = withTrailers !== null ? [] : spec.trailers.flatMap(([key, value]) => ["--trailer", `${key}: ${value}`]);
    const author = spec.author === undefined ? [] : [`--author=${spec.author.name} <${spec.author.email}>`];
    // NOTE: with core.abbrev=40 the summary line `[branch sha] subject` carries the full sha: no rev-parse needed.
    const out = await runGit(cwd, ["-c", "core.abbrev=40", "commit", "--no-edit", "-F", "-", ...author, ...trailers], { input: withTrailers ?? spec.message });
    return parseCommitSha(out.stdout) ?? (await runGit(cwd, ["rev-parse", "HEAD"])).stdout.trim();
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

  async mergeCommitOnto(cwd: string, rev: string, message: string): Promise<GitUpdateResult> {
    const branchHead = await this.headOf(cwd);
    const merged = await this.mergeInto(cwd, rev, message);
    if (merged.kind === "conflict") return merged;
    const [head, target] = await Promise.all([this.headOf(cwd), SHA.test(rev) ? rev : this.headOf(cwd, `${rev}^{commit}`)]);
    if (head === target) return merged; // the branch had nothing of its own: nothing to merge
    // Up to date because the branch already is a merge of the target, target first (a merge stopped before it landed): as it is.
    if (head === branchHead && (await this.isMergeOnto(cwd, head, target))) return merged;
    // NOTE: commit-tree takes `HEAD^{tree}` itself: the merged tree needs no rev-parse of its own.
    const commit = (await runGit(cwd, ["commit-tree", `${head}^{tree}`, "-p", target, "-p", branchHead, "-F", "-"], { input: message })).stdout.trim();
    // NOTE: same tree as the merge just made, so a soft reset moves the branch without touching files.
    await runGit(cwd, ["reset", "-q", "--soft", commit]);
    return merged;
  }

  mergeTree(cwd: string, ours: string, theirs: string): ReturnType<Git["mergeTree"]> {
    return mergeTree(cwd, ours, theirs);
  }

  commitTree(cwd: string, spec: Parameters<Git["commitTree"]>[1]): Promise<string> {
    return commitTree(cwd, spec);
  }

  fastForwardIfClean(path: string, to: string): Promise<"unclean" | string | null> {
    return fastForwardIfClean(path, to);
  }

  /** Whether `commit` is a merge whose first parent is `first`. */
  private async isMergeOnto(cwd: string, commit: string, first: string): Promise<boolean> {
    const [firstParent, secondParent] = await Promise.all([this.resolveCommit(cwd, `${commit}^1`), this.resolveCommit(cwd, `${commit}^2`)]);
    return firstParent === first && secondParent !== null;
  }

  /** The commit `rev` (default HEAD) names, which must exist. */
  private async headOf(cwd: string, rev = "HEAD"): Promise<string> {
    const sha = await this.resolveCommit(cwd, rev);
    if (sha !== null) return sha;
    throw new GitError(`${rev} does not name a commit in ${cwd}`, { details: { cwd, rev } });
  }

  async rebaseOnto(cwd: string, rev: string): Promise<GitUpdateResult> {
    const args = ["rebase", "--no-autostash", rev];
    return conflictOrThrow(cwd, await runGit(cwd, args, { ok: [1] }), args);
  }

  async squashOnto(cwd: string, rev: string, message: string): Promise<GitUpdateResult> {
    const merged = await this.mergeInto(cwd, rev, message);
    if (merged.kind === "conflict") return merged;
    const [tree, base] = (await runGit(cwd, ["rev-parse", "HEAD^{tree}", `${rev}^{tree}`])).stdout.trim().split("\n");
    if (tree === base) return merged; // nothing of the branch's own left to squash
    const commit = (await runGit(cwd, ["commit-tree", tree!, "-p", rev, "-F", "-"], { input: message })).stdout.trim();
    // NOTE: the index already holds exactly this tree, so a soft reset moves the branch without touching files.
    await runGit(cwd, ["reset", "-q", "--soft", commit]);
    return merged;
  }

  async abortInProgress(cwd: string): Promise<void> {
    const dir = await gitDir(cwd);
    const rebasing = existsSync(join(dir, "rebase-merge")) || existsSync(join(dir, "rebase-apply"));
    const merging = existsSync(join(dir, "MERGE_HEAD"));
    if (!rebasing && !merging) return;
    if (rebasing) await runGit(cwd, ["rebase", "--abort"]);
    if (merging) await runGit(cwd, ["merge", "--abort"]);
    const left = (await this.status(cwd, { untracked: false })).entries;
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

  async checkoutsOf(repo: string, branch: string): Promise<string[]> {
    try {
      return await checkoutsFromGitDir(repo, await gitDir(repo), branch);
    } catch {
      return (await this.listWorktrees(repo)).filter((e) => e.branch === branch && !e.bare && !e.prunable).map((e) => e.path);
    }
  }

  async fastForwardCheckout(path: string, to: string): Promise<string | null> {
    const out = await runGit(path, ["merge", "-q", "--ff-only", "--no-autostash", "--no-edit", to], { ok: [1, 128] });
    return out.exitCode === 0 ? null : out.stderr.trim().split("\n").map((l) => l.trim()).join(" ");
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

  async taskTrailers(cwd: string, range: string): Promise<Map<string, string>> {
    const out = await runGit(cwd, ["log", "-z", "--grep=^Gaffer-Task: ", "--format=%H%x1f%(trailers:key=Gaffer-Task,valueonly,separator=%x1f)", range, "--"]);
    const found = new Map<string, string>();
    for (const record of out.stdout.split("\0")) {
      const [sha, ...tasks] = record.trim().split("\x1f");
      for (const task of tasks.map((t) => t.trim()).filter((t) => t.length > 0)) if (!found.has(task)) found.set(task, sha!);
    }
    return found;
  }

  async changedPaths(cwd: string, from: string, to: string, limitTo: readonly string[] = []): Promise<string[]> {
    // NOTE: literal pathspecs: a limit is a path prefix, never a glob.
    const out = await runGit(cwd, ["--literal-pathspecs", "diff", "--name-only", "--no-renames", "-z", from, to, "--", ...limitTo]);
    return out.stdout.split("\0").filter((l) => l.length > 0);
  }

  openObjectReader(repo: string): GitObjectReader {
    return new CatFileReader(repo, GIT_ENV);
  }

  async runAutoMaintenance(repo: string): Promise<void> {
    await runGit(repo, ["maintenance", "run", "--auto", "--quiet"]);
  }

  async deleteBranch(repo: string, branch: string, options: { force: boolean }): Promise<void> {
    await runGit(repo, ["branch", options.force ? "-D" : "-d", branch]);
  }
}
