/**
 * GitCli.mergeCommitOnto, git's porcelain path of the `merge` strategy: the
 * branch's checkout gets a merge commit with the target as first parent,
 * unless the branch already is one (a merge stopped before it landed).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GitCli } from "../../controller/adapters/git.js";
import { git, gitRepo } from "../helpers/git-repo.js";

const parents = (repo: string, rev: string): string[] => git(repo, "show", "-s", "--format=%P", rev).split(" ");

describe("GitCli.mergeCommitOnto", () => {
  it("makes a target-first merge commit for a branch whose own commit sits on the target (git alone would call it up to date)", async () => {
    const repo = gitRepo();
    const main = git(repo, "rev-parse", "HEAD");
    git(repo, "switch", "-q", "-c", "task");
    writeFileSync(join(repo, "task.txt"), "task\n");
    git(repo, "add", "task.txt");
    git(repo, "commit", "-q", "-m", "feat: task");
    const own = git(repo, "rev-parse", "HEAD");

    expect(await new GitCli().mergeCommitOnto(repo, main, "Merge task into main\n")).toEqual({ kind: "done" });
    expect(parents(repo, "HEAD")).toEqual([main, own]);
    expect(git(repo, "show", "-s", "--format=%s", "HEAD")).toBe("Merge task into main");
  });

  it("leaves a branch that already is the target merged, target first, as it is", async () => {
    const repo = gitRepo();
    git(repo, "switch", "-q", "-c", "task");
    writeFileSync(join(repo, "task.txt"), "task\n");
    git(repo, "add", "task.txt");
    git(repo, "commit", "-q", "-m", "feat: task");
    const own = git(repo, "rev-parse", "HEAD");
    git(repo, "switch", "-q", "main");
    git(repo, "commit", "-q", "--allow-empty", "-m", "chore: main moves");
    const main = git(repo, "rev-parse", "HEAD");
    git(repo, "switch", "-q", "task");
    const stopped = git(repo, "commit-tree", git(repo, "merge-tree", "--write-tree", main, own), "-p", main, "-p", own, "-m", "Merge task into main");
    git(repo, "reset", "-q", "--hard", stopped);

    expect(await new GitCli().mergeCommitOnto(repo, main, "Merge task into main\n")).toEqual({ kind: "done" });
    expect(git(repo, "rev-parse", "HEAD")).toBe(stopped);
  });
});
