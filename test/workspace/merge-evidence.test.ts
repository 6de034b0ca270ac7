import { writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { commitChanges } from "../../controller/workspace/commit.js";
import { mergeWorktree, processMergeQueue } from "../../controller/workspace/merge-queue.js";
import { removeWorktree } from "../../controller/workspace/worktree-removal.js";
import { createWorktrees } from "../../controller/workspace/worktrees.js";
import { insertMerge, listMerges, setMergeState, writeMergeLease } from "../../state/merges.repository.js";
import { readTaskRecord } from "../../state/task-phase.repository.js";
import { git } from "../helpers/git-repo.js";
import { workspaceFixture } from "./workspace-fixture.js";

/** A pid that is certainly not running (beyond Linux's pid_max). */
const DEAD_PID = 4_194_305;

describe("merge bookkeeping from git", () => {
  it("a merge landed by a process whose lease then broke is recognised from git: Merged, never NOT_FOUND", async () => {
    const fx = await workspaceFixture({ tasks: [{ name: "one" }] });
    const { worktree } = (await createWorktrees(fx.ctx, ["one"]))[0]!;
    writeFileSync(join(worktree.path, "one.txt"), "one\n");
    await commitChanges(fx.ctx, { task: "one", message: "feat: add one" });
    // The other process landed the branch and removed the worktree, then died before recording it.
    const merge = await insertMerge(fx.ctx.db, { task: "one", branch: worktree.branch, target: "main", strategy: "merge" });
    await setMergeState(fx.ctx.db, merge.id, { state: "running" });
    await writeMergeLease(fx.ctx.db, { target: "main", holder: `${hostname()}/${DEAD_PID}/dead0000`, mergeId: merge.id, ttlMs: 60_000 });
    git(fx.repo, "merge", "-q", "--no-ff", "-m", "Merge gaffer/build/one into main", worktree.branch);
    await removeWorktree(fx.ctx, "one");

    const { finished } = await processMergeQueue(fx.ctx, "main");
    expect(finished.map((m) => [m.task, m.state])).toEqual([["one", "merged"]]);
    expect(await fx.actions("branch/main")).toContain("MergeLeaseBroken");
    expect(await fx.actions("task/one")).not.toContain("MergeFailed");
    expect((await readTaskRecord(fx.ctx.db, "one"))?.phase).toBe("Merged");
    // Asking again answers from the ledger: the same row, nothing queued again.
    const again = await mergeWorktree(fx.ctx, "one");
    expect([again.id, again.state]).toEqual([merge.id, "merged"]);
    expect((await listMerges(fx.ctx.db, { task: "one" })).length).toBe(1);
  });

  it("a task whose Gaffer-Task commit is on main is Merged on request, though the ledger never saw the merge", async () => {
    const fx = await workspaceFixture({ tasks: [{ name: "one" }] });
    const { worktree } = (await createWorktrees(fx.ctx, ["one"]))[0]!;
    writeFileSync(join(worktree.path, "one.txt"), "one\n");
    const { sha } = await commitChanges(fx.ctx, { task: "one", message: "feat: add one" });
    git(fx.repo, "merge", "-q", "--no-ff", "-m", "Merge by hand", worktree.branch);
    await removeWorktree(fx.ctx, "one");
    const main = git(fx.repo, "rev-parse", "main");

    const merge = await mergeWorktree(fx.ctx, "one");
    expect([merge.state, merge.mergeSha, merge.reason]).toEqual(["merged", sha, "recognised from git (trailer)"]);
    expect(git(fx.repo, "rev-parse", "main")).toBe(main);
    expect(await fx.actions("task/one")).toContain("MergeRecognized");
    expect((await readTaskRecord(fx.ctx.db, "one"))?.phase).toBe("Merged");
  });
});
