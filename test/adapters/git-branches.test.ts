/**
 * The named branches read from the git dir answer what `git for-each-ref`
 * answers (commit and checkout) in every layout gaffer meets: loose and
 * packed refs, checkouts in the main and linked worktrees (one whose
 * directory is gone included), detached worktrees, names that are a
 * directory of other branches; anything else is asked of git.
 */
import { rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GitCli } from "../../controller/adapters/git.js";
import { readBranchesFromGitDir } from "../../controller/adapters/git-dir.js";
import { isPlainBranchName, parseRefList } from "../../controller/adapters/git-parse.js";
import { git, gitRepo } from "../helpers/git-repo.js";
import { traceGit } from "../helpers/git-trace.js";

/** What git itself says of `names`. */
function gitSays(repo: string, names: readonly string[]): Map<string, { sha: string; checkout: string | null }> {
  const all = parseRefList(git(repo, "for-each-ref", "--format=%(refname:short)%00%(objectname)%00%(worktreepath)", "refs/heads"));
  return new Map(names.filter((n) => all.has(n)).map((n) => [n, all.get(n)!]));
}

describe("branches from the git dir", () => {
  it("answers what for-each-ref answers, loose or packed, checked out anywhere or nowhere, without a git process", async () => {
    const repo = gitRepo();
    const base = git(repo, "rev-parse", "HEAD");
    git(repo, "commit", "-q", "--allow-empty", "-m", "chore: two");
    for (const b of ["packed/one", "loose", "a/b", "gone", "detached-at"]) git(repo, "branch", b, base);
    git(repo, "pack-refs", "--all");
    // Moved after packing: the loose file wins over the packed line, as in git.
    git(repo, "branch", "-f", "loose", "HEAD");
    git(repo, "worktree", "add", "-q", join(repo, "..", "wt-a"), "a/b");
    git(repo, "worktree", "add", "-q", join(repo, "..", "wt-gone"), "gone");
    rmSync(join(repo, "..", "wt-gone"), { recursive: true, force: true });
    git(repo, "worktree", "add", "-q", "--detach", join(repo, "..", "wt-detached"), "detached-at");
    const names = ["main", "packed/one", "loose", "a/b", "a", "gone", "detached-at", "missing", "packed"];
    const { result, trace } = await traceGit(() => new GitCli().branches(repo, names));
    expect(trace.count).toBe(0);
    expect(result).toEqual(gitSays(repo, names));
    expect(result.get("a/b")).toEqual({ sha: base, checkout: join(repo, "..", "wt-a") });
    expect(result.get("main")?.checkout).toBe(repo);
    expect(result.has("missing")).toBe(false);
  });

  it("answers for a repository reached through a symbolic link as git does, and leaves SHA-256 packed refs to git", async () => {
    const repo = gitRepo();
    const link = join(repo, "..", "link-to-repo");
    symlinkSync(repo, link);
    expect(await new GitCli().branches(link, ["main"])).toEqual(gitSays(link, ["main"]));
    const sha256 = join(repo, "..", "sha256");
    git(join(repo, ".."), "init", "-q", "--object-format=sha256", "-b", "main", sha256);
    git(sha256, "-c", "user.email=t@example.com", "-c", "user.name=T", "commit", "-q", "--allow-empty", "-m", "chore: one");
    git(sha256, "branch", "b1");
    git(sha256, "pack-refs", "--all");
    expect(readBranchesFromGitDir(join(sha256, ".git"), ["b1"], isPlainBranchName)).toBeNull();
    expect(await new GitCli().branches(sha256, ["b1"])).toEqual(gitSays(sha256, ["b1"]));
  });

  it("leaves to git a name that is not a plain path, a symbolic branch, and a ref store other than files", async () => {
    const repo = gitRepo();
    const dir = join(repo, ".git");
    expect(readBranchesFromGitDir(dir, ["main", "odd..name"], isPlainBranchName)).toBeNull();
    git(repo, "symbolic-ref", "refs/heads/alias", "refs/heads/main");
    expect(readBranchesFromGitDir(dir, ["alias"], isPlainBranchName)).toBeNull();
    const { result, trace } = await traceGit(() => new GitCli().branches(repo, ["alias", "main"]));
    expect(trace.commands).toEqual(["for-each-ref"]);
    expect(result).toEqual(gitSays(repo, ["alias", "main"]));
  });
});
