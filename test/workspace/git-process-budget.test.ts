/**
 * The git processes of the hot paths, counted by git itself (trace2): one
 * provision of N worktrees, N commits, and one merge-queue run of N branches.
 * A bound per task, so an extra git call on these paths fails here, whatever
 * the machine's speed (the timing belongs to `npm run bench git`).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { commitChanges } from "../../controller/workspace/commit.js";
import { processMergeQueue, requestMerge } from "../../controller/workspace/merge-queue.js";
import { createWorktrees } from "../../controller/workspace/worktrees.js";
import { traceGit, type GitTrace } from "../helpers/git-trace.js";
import { workspaceFixture } from "./workspace-fixture.js";

const N = 4;
const names = Array.from({ length: N }, (_, i) => `task-${i}`);

/** A readable tally for the failure message: `{ "worktree add": 4, ... }`. */
function tally(trace: GitTrace): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const c of trace.commands) counts[c] = (counts[c] ?? 0) + 1;
  return counts;
}

/** `bound`: the git processes gaffer starts; `allBound`: with the ones git starts itself (hooks' helpers, auto maintenance). */
function expectAtMost(what: string, trace: GitTrace, bound: number, allBound: number): void {
  console.log(`${what}: ${trace.count} git processes (${trace.all} with git's own) for ${N} tasks ${JSON.stringify(tally(trace))}`);
  expect(trace.count, `${what} ran ${JSON.stringify(tally(trace))}`).toBeLessThanOrEqual(bound);
  expect(trace.all, `${what} ran ${trace.all} git processes in all`).toBeLessThanOrEqual(allBound);
}

describe("git process budget", () => {
  it("provisions, commits and merges N tasks within a fixed number of git processes per task", async () => {
    const fx = await workspaceFixture({ tasks: [...names, "task-extra"].map((name) => ({ name })) });

    const provision = await traceGit(() => createWorktrees(fx.ctx, names));
    expect(provision.result.map((o) => o.action)).toEqual(names.map(() => "created"));
    // One `worktree add` per task; the batch reads its branches (and where they are checked out) from the git dir.
    // `worktree add` starts three gits of its own (branch, symbolic-ref, reset --hard).
    expectAtMost("provision", provision.trace, N, 4 * N);

    const commits = await traceGit(async () => {
      for (const { task, worktree } of provision.result) {
        writeFileSync(join(worktree.path, `${task}.txt`), `${task}\n`);
        await commitChanges(fx.ctx, { task, message: `feat: ${task}` });
      }
    });
    // `add -A`, the staged changes (secrets and protected paths are judged on them), `commit`; the commit
    // starts no `interpret-trailers` (gaffer writes its trailers) and no `maintenance run --auto`.
    expectAtMost("commit", commits.trace, 3 * N, 3 * N);

    const merges = await traceGit(async () => {
      for (const task of names) await requestMerge(fx.ctx, task);
      return processMergeQueue(fx.ctx, "main");
    });
    expect(merges.result.finished.map((m) => m.state)).toEqual(names.map(() => "merged"));
    // Per task: `merge-tree` computes the merge from the commits (not for the first: main is its base, so its own
    // tree is the merge's), `commit-tree` makes it (first parent main), the worktree moves to it with a `rebase` that
    // refuses an unclean tree in the same process, main's fast-forward, `worktree remove` (and the `status` git starts
    // for it). One `cat-file --batch-check` for the whole run compares the protected folders' trees (no diff when
    // unchanged) and the target's tree, and one `maintenance run --auto` for the pass (git's per-command one is off).
    expectAtMost("merge", merges.trace, 5 * N + 1, 6 * N + 1);
    expect(tally(merges.trace)["merge-tree"]).toBe(N - 1);
    expect(tally(merges.trace).maintenance).toBe(1);
    // A second pass within the minute: no second maintenance check.
    const again = await traceGit(async () => {
      const { worktree } = (await createWorktrees(fx.ctx, ["task-extra"]))[0]!;
      writeFileSync(join(worktree.path, "extra.txt"), "extra\n");
      await commitChanges(fx.ctx, { task: "task-extra", message: "feat: extra" });
      await requestMerge(fx.ctx, "task-extra");
      return processMergeQueue(fx.ctx, "main");
    });
    expect(again.result.finished.map((m) => m.state)).toEqual(["merged"]);
    expect(tally(again.trace).maintenance).toBeUndefined();
  });
});
