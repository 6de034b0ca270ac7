/**
 * The `merge` strategy computes the merge from the commits (`merge-tree`,
 * `commit-tree`) while the worktree's status is read: the result must be the
 * merge git itself makes, and nothing may move when the worktree turns out
 * unclean or the branch has nothing of its own.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { commitChanges } from "../../controller/workspace/commit.js";
import { mergeWorktree } from "../../controller/workspace/merge-queue.js";
import { createWorktree } from "../../controller/workspace/worktrees.js";
import { listEvents } from "../../state/events.repository.js";
import { git } from "../helpers/git-repo.js";
import { traceGit } from "../helpers/git-trace.js";
import { workspaceFixture } from "./workspace-fixture.js";

describe("merge built from commits", () => {
  it("lands the tree git's own merge makes, with main as first parent, and leaves the branch at it", async () => {
    const fx = await workspaceFixture({ tasks: [{ name: "one" }], project: { policy: { approvers: ["approver@example.com"], worktreeRetention: "keep" } } });
    writeFileSync(join(fx.repo, "shared.txt"), "a\nb\nc\nd\ne\n");
    git(fx.repo, "add", "shared.txt");
    git(fx.repo, "commit", "-q", "-m", "chore: shared file");
    const { worktree } = await createWorktree(fx.ctx, "one");
    writeFileSync(join(worktree.path, "shared.txt"), "a\nb\nc\nd\nE (task)\n");
    const branchHead = (await commitChanges(fx.ctx, { task: "one", message: "feat: task edit" })).sha!;
    writeFileSync(join(fx.repo, "shared.txt"), "A (user)\nb\nc\nd\ne\n");
    git(fx.repo, "commit", "-q", "-am", "docs: the user's edit");
    const before = git(fx.repo, "rev-parse", "main");
    // What git's porcelain merge makes of the same two commits, in a throwaway checkout.
    git(fx.repo, "worktree", "add", "-q", "--detach", join(fx.repo, "..", "porcelain"), before);
    git(join(fx.repo, "..", "porcelain"), "merge", "-q", "--no-edit", branchHead);
    const expectedTree = git(join(fx.repo, "..", "porcelain"), "rev-parse", "HEAD^{tree}");

    const merge = await mergeWorktree(fx.ctx, "one");
    expect(merge.state).toBe("merged");
    const head = git(fx.repo, "rev-parse", "main");
    expect(git(fx.repo, "rev-parse", "main^{tree}")).toBe(expectedTree);
    expect(git(fx.repo, "show", "-s", "--format=%P", head).split(" ")).toEqual([before, branchHead]);
    expect(git(fx.repo, "rev-parse", "gaffer/build/one")).toBe(head);
    expect(readFileSync(join(worktree.path, "shared.txt"), "utf8")).toBe("A (user)\nb\nc\nd\nE (task)\n");
    expect(git(worktree.path, "status", "--porcelain")).toBe("");
  });

  it("lands a branch whose commits sit on main with no merge-tree run: a merge commit of the branch's own tree, main first", async () => {
    const fx = await workspaceFixture({ tasks: [{ name: "one" }, { name: "two" }], project: { policy: { approvers: ["approver@example.com"], worktreeRetention: "keep" } } });
    const [{ worktree: one }, { worktree: two }] = [await createWorktree(fx.ctx, "one"), await createWorktree(fx.ctx, "two")];
    const main = git(fx.repo, "rev-parse", "main");
    for (const [wt, task, count] of [[one.path, "one", 3], [two.path, "two", 2]] as const) {
      for (let i = 0; i < count; i++) {
        writeFileSync(join(wt, `${task}-${i}.txt`), `${i}\n`);
        await commitChanges(fx.ctx, { task, message: `feat: ${task} ${i}` });
      }
    }
    const oneHead = git(one.path, "rev-parse", "HEAD");
    const { result: first, trace } = await traceGit(() => mergeWorktree(fx.ctx, "one"));
    expect(first.state).toBe("merged");
    expect(trace.commands.filter((c) => c === "merge-tree")).toEqual([]);
    expect(git(fx.repo, "show", "-s", "--format=%P", "main").split(" ")).toEqual([main, oneHead]);
    expect(git(fx.repo, "rev-parse", "main^{tree}")).toBe(git(one.path, "rev-parse", `${oneHead}^{tree}`));
    // two's base is main before one landed: a real merge, computed by merge-tree.
    const twoHead = git(two.path, "rev-parse", "HEAD");
    const landedOne = git(fx.repo, "rev-parse", "main");
    const { result: second, trace: secondTrace } = await traceGit(() => mergeWorktree(fx.ctx, "two"));
    expect(second.state).toBe("merged");
    expect(secondTrace.commands.filter((c) => c === "merge-tree")).toEqual(["merge-tree"]);
    expect(git(fx.repo, "show", "-s", "--format=%P", "main").split(" ")).toEqual([landedOne, twoHead]);
    expect(git(fx.repo, "ls-tree", "--name-only", "main").split("\n").filter((f) => /^(one|two)-/.test(f))).toHaveLength(5);
  });

  it("moves nothing when the worktree has uncommitted changes, though the merge was computed meanwhile", async () => {
    const fx = await workspaceFixture({ tasks: [{ name: "one" }] });
    const { worktree } = await createWorktree(fx.ctx, "one");
    writeFileSync(join(worktree.path, "one.txt"), "one\n");
    const branchHead = (await commitChanges(fx.ctx, { task: "one", message: "feat: one" })).sha!;
    git(fx.repo, "commit", "-q", "--allow-empty", "-m", "chore: main moves");
    const before = git(fx.repo, "rev-parse", "main");
    writeFileSync(join(worktree.path, "one.txt"), "one, edited\n");

    const merge = await mergeWorktree(fx.ctx, "one");
    expect(merge.state).toBe("failed");
    expect(merge.reason).toBe(`GIT_FAILED: the worktree of task one has uncommitted changes (one.txt); commit them (gaffer commit --task one -m MSG) and merge again`);
    expect(git(fx.repo, "rev-parse", "main")).toBe(before);
    expect(git(worktree.path, "rev-parse", "HEAD")).toBe(branchHead);
    expect(readFileSync(join(worktree.path, "one.txt"), "utf8")).toBe("one, edited\n");
  });

  it("moves nothing when a change is only staged (the fast-forward refuses an index that differs from HEAD)", async () => {
    const fx = await workspaceFixture({ tasks: [{ name: "one" }] });
    const { worktree } = await createWorktree(fx.ctx, "one");
    writeFileSync(join(worktree.path, "one.txt"), "one\n");
    const branchHead = (await commitChanges(fx.ctx, { task: "one", message: "feat: one" })).sha!;
    writeFileSync(join(worktree.path, "staged.txt"), "staged\n");
    git(worktree.path, "add", "staged.txt");
    const before = git(fx.repo, "rev-parse", "main");

    const merge = await mergeWorktree(fx.ctx, "one");
    expect(merge.reason).toBe(`GIT_FAILED: the worktree of task one has uncommitted changes (staged.txt); commit them (gaffer commit --task one -m MSG) and merge again`);
    expect(git(fx.repo, "rev-parse", "main")).toBe(before);
    expect(git(worktree.path, "rev-parse", "HEAD")).toBe(branchHead);
    expect(git(worktree.path, "status", "--porcelain")).toBe("A  staged.txt");
  });

  it("lands nothing for a branch with nothing of its own (no empty merge commit)", async () => {
    const fx = await workspaceFixture({ tasks: [{ name: "one" }] });
    await createWorktree(fx.ctx, "one");
    const before = git(fx.repo, "rev-parse", "main");
    const merge = await mergeWorktree(fx.ctx, "one");
    expect(merge.state).toBe("merged");
    expect(git(fx.repo, "rev-parse", "main")).toBe(before);
    expect(merge.mergeSha).toBe(before);
    // The worktree was there when retention removed it.
    expect((await listEvents(fx.ctx.db, { action: "WorktreeRemoved" })).map((e) => e.payload.missing)).toEqual([false]);
  });

  it("lands a branch that is already the target merged (a merge stopped before main moved) as it is: one merge commit, not two", async () => {
    const fx = await workspaceFixture({ tasks: [{ name: "one" }], project: { policy: { approvers: ["approver@example.com"], worktreeRetention: "keep" } } });
    const { worktree } = await createWorktree(fx.ctx, "one");
    writeFileSync(join(worktree.path, "one.txt"), "one\n");
    const branchHead = (await commitChanges(fx.ctx, { task: "one", message: "feat: one" })).sha!;
    git(fx.repo, "commit", "-q", "--allow-empty", "-m", "chore: main moves");
    const main = git(fx.repo, "rev-parse", "main");
    // What the merge step leaves when it is killed after the worktree's merge commit and before main's fast-forward.
    const tree = git(worktree.path, "merge-tree", "--write-tree", main, branchHead);
    const stopped = git(worktree.path, "commit-tree", tree, "-p", main, "-p", branchHead, "-m", "Merge gaffer/build/one into main\n\nGaffer-Task: one");
    git(worktree.path, "reset", "-q", "--hard", stopped);

    const merge = await mergeWorktree(fx.ctx, "one");
    expect(merge.state).toBe("merged");
    expect(git(fx.repo, "rev-parse", "main")).toBe(stopped);
    expect(git(fx.repo, "log", "--format=%s", `${main}..main`).split("\n")).toEqual(["Merge gaffer/build/one into main", "feat: one"]);
  });

  it("still lands main first when the agent merged main into its branch itself", async () => {
    const fx = await workspaceFixture({ tasks: [{ name: "one" }], project: { policy: { approvers: ["approver@example.com"], worktreeRetention: "keep" } } });
    const { worktree } = await createWorktree(fx.ctx, "one");
    writeFileSync(join(worktree.path, "one.txt"), "one\n");
    await commitChanges(fx.ctx, { task: "one", message: "feat: one" });
    git(fx.repo, "commit", "-q", "--allow-empty", "-m", "chore: main moves");
    const main = git(fx.repo, "rev-parse", "main");
    git(worktree.path, "merge", "-q", "--no-edit", "main");
    const agentMerge = git(worktree.path, "rev-parse", "HEAD");

    const merge = await mergeWorktree(fx.ctx, "one");
    expect(merge.state).toBe("merged");
    expect(git(fx.repo, "show", "-s", "--format=%P", "main").split(" ")).toEqual([main, agentMerge]);
  });
});
