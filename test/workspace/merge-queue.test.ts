import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { commitChanges } from "../../controller/workspace/commit.js";
import { mergeWorktree, processMergeQueue, requestMerge } from "../../controller/workspace/merge-queue.js";
import { createWorktrees } from "../../controller/workspace/worktrees.js";
import { listMerges } from "../../state/merges.repository.js";
import { readTaskRecord } from "../../state/task-phase.repository.js";
import { git } from "../helpers/git-repo.js";
import { workspaceFixture, type WorkspaceFixture } from "./workspace-fixture.js";

/** Each task adds its own file and commits through commit_changes. */
async function commitEach(fx: WorkspaceFixture, tasks: readonly string[]): Promise<Record<string, string>> {
  const outcomes = await createWorktrees(fx.ctx, tasks);
  const shas: Record<string, string> = {};
  for (const { task, worktree } of outcomes) {
    writeFileSync(join(worktree.path, `${task}.txt`), `${task}\n`);
    shas[task] = (await commitChanges(fx.ctx, { task, message: `feat: add ${task}` })).sha!;
  }
  return shas;
}

describe("merge queue", () => {
  it("merges two of three branches in request order; the one whose gate fails never reaches main", async () => {
    const fx = await workspaceFixture({ tasks: [{ name: "one" }, { name: "two", gate: { commands: [["sh", "-c", "echo broken >&2; exit 3"]] } }, { name: "three" }] });
    const base = git(fx.repo, "rev-parse", "main");
    const shas = await commitEach(fx, ["one", "two", "three"]);
    for (const task of ["one", "two", "three"]) await requestMerge(fx.ctx, task);
    const { finished } = await processMergeQueue(fx.ctx, "main");

    expect(finished.map((m) => [m.task, m.state])).toEqual([["one", "merged"], ["two", "refused"], ["three", "merged"]]);
    const two = finished[1]!;
    expect(two.reason).toMatch(/^POLICY_GATE_REQUIRED: the gate did not pass on [0-9a-f]{12} \(gate command `sh -c echo broken >&2; exit 3` exited 3\); main was not touched: fix the branch, commit, and merge again$/);
    // Each merge is a merge commit on main's own line; the tasks' commits are its second parents.
    expect(git(fx.repo, "log", "--first-parent", "--format=%s", "main").split("\n")).toEqual(["Merge gaffer/build/three into main", "Merge gaffer/build/one into main", ...git(fx.repo, "log", "--format=%s", `${base}`).split("\n")]);
    expect(git(fx.repo, "merge-base", "--is-ancestor", shas.one!, "main")).toBe("");
    expect(git(fx.repo, "merge-base", "--is-ancestor", shas.three!, "main")).toBe("");
    expect(() => git(fx.repo, "merge-base", "--is-ancestor", shas.two!, "main")).toThrow();
    expect(git(fx.repo, "ls-tree", "--name-only", "main").split("\n")).toEqual(expect.arrayContaining(["one.txt", "three.txt"]));
    expect(git(fx.repo, "ls-tree", "--name-only", "main")).not.toContain("two.txt");
    expect((await readTaskRecord(fx.ctx.db, "two"))?.phase).toBe("Working");
    expect((await readTaskRecord(fx.ctx.db, "three"))?.phase).toBe("Merged");
    const gates = await fx.ctx.db.selectFrom("gates").select(["task", "kind", "state", "exit_code", "output_tail"]).orderBy("id").execute();
    expect(gates).toEqual([
      { task: "one", kind: "command", state: "passed", exit_code: 0, output_tail: "" },
      { task: "two", kind: "command", state: "failed", exit_code: 3, output_tail: "broken" },
      { task: "three", kind: "command", state: "passed", exit_code: 0, output_tail: "" },
    ]);
    expect(await fx.actions("task/two")).toEqual(expect.arrayContaining(["MergeQueued", "MergeStarted", "GateCommandStarted", "GateCommandFinished", "GateFailed", "PolicyRefused", "MergeRefused"]));
  });

  it("lands a merge commit whose first parent is main, so `git log --first-parent main` keeps the user's own commits", async () => {
    const fx = await workspaceFixture({ tasks: [{ name: "one" }] });
    const shas = await commitEach(fx, ["one"]);
    writeFileSync(join(fx.repo, "user.txt"), "mine\n");
    git(fx.repo, "add", "user.txt");
    git(fx.repo, "commit", "-q", "-m", "docs: the user's own commit");
    const before = git(fx.repo, "rev-parse", "main");
    const merge = await mergeWorktree(fx.ctx, "one");
    expect(merge.state).toBe("merged");
    const head = git(fx.repo, "rev-parse", "main");
    expect(merge.mergeSha).toBe(head);
    expect(git(fx.repo, "show", "-s", "--format=%P", head).split(" ")).toEqual([before, shas.one!]);
    expect(git(fx.repo, "log", "--first-parent", "--format=%s", "-2", "main").split("\n")).toEqual(["Merge gaffer/build/one into main", "docs: the user's own commit"]);
    expect(git(fx.repo, "show", "-s", "--format=%(trailers:key=Gaffer-Task,valueonly)", head)).toBe("one");
    expect(git(fx.repo, "log", "--format=%s", "main")).not.toContain("chore(merge)");
  });

  it("refuses a manifest set with an ungated task before any merge (validate names the stage)", async () => {
    const fixture = workspaceFixture({ stages: [{ name: "build", approval: "none", roles: [{ name: "builder", allowedAgents: ["scripted"] }] }], tasks: [{ name: "ungated" }] });
    await expect(fixture).rejects.toMatchObject({ code: "MANIFEST_INVALID" });
    await expect(fixture).rejects.toThrow(/stage "build" has no gate, so its task ungated would fail at the gate/);
  });

  it("lands on main while main is checked out in the main worktree, keeping local edits and refusing to clobber them", async () => {
    const fx = await workspaceFixture({ tasks: [{ name: "first" }, { name: "second" }], project: { policy: { mergeStrategy: "rebase" } } });
    await commitEach(fx, ["first", "second"]);
    writeFileSync(join(fx.repo, "local-notes.md"), "untracked, mine\n");
    writeFileSync(join(fx.repo, "README.md"), "# target\nlocal edit\n");

    const first = await mergeWorktree(fx.ctx, "first");
    expect(first.state).toBe("merged");
    expect(git(fx.repo, "rev-parse", "HEAD")).toBe(first.mergeSha);
    expect(readFileSync(join(fx.repo, "first.txt"), "utf8")).toBe("first\n");
    expect(git(fx.repo, "status", "--porcelain")).toBe("M README.md\n?? local-notes.md");

    writeFileSync(join(fx.repo, "second.txt"), "would be overwritten\n");
    const blocked = await mergeWorktree(fx.ctx, "second");
    expect(blocked.state).toBe("failed");
    expect(blocked.reason).toBe(`MERGE_BLOCKED: main is checked out at ${fx.repo} with local changes this merge would overwrite (error: The following untracked working tree files would be overwritten by merge: second.txt Please move or remove them before you merge. Aborting); commit or stash them there, then run \`gaffer merge --task second\` again`);
    expect(git(fx.repo, "rev-parse", "main")).toBe(first.mergeSha);

    git(fx.repo, "clean", "-q", "-f", "second.txt");
    const second = await mergeWorktree(fx.ctx, "second");
    expect(second.state).toBe("merged");
    expect(git(fx.repo, "log", "--format=%s", "-3", "main")).toBe("feat: add second\nfeat: add first\nchore: manifests");
    expect(git(fx.repo, "status", "--porcelain")).toBe("M README.md\n?? local-notes.md");
    expect(git(fx.repo, "diff", "HEAD", "--stat")).toContain("README.md");
    expect((await listMerges(fx.ctx.db)).map((m) => [m.task, m.state])).toEqual([["first", "merged"], ["second", "failed"], ["second", "merged"]]);
  });

  it("lands on main when main is checked out in a linked worktree, and when it is checked out nowhere", async () => {
    const fx = await workspaceFixture({ tasks: [{ name: "first" }, { name: "second" }] });
    await commitEach(fx, ["first", "second"]);
    git(fx.repo, "switch", "-q", "-c", "dev");
    const mainCheckout = join(fx.dir, ".gaffer/main-checkout");
    git(fx.repo, "worktree", "add", "-q", mainCheckout, "main");
    const first = await mergeWorktree(fx.ctx, "first");
    expect(first.state).toBe("merged");
    expect([git(mainCheckout, "rev-parse", "HEAD"), git(mainCheckout, "status", "--porcelain"), readFileSync(join(mainCheckout, "first.txt"), "utf8")]).toEqual([first.mergeSha, "", "first\n"]);

    git(fx.repo, "worktree", "remove", mainCheckout);
    const second = await mergeWorktree(fx.ctx, "second");
    expect(second.state).toBe("merged");
    expect(git(fx.repo, "rev-parse", "main")).toBe(second.mergeSha);
    expect(git(fx.repo, "branch", "--show-current")).toBe("dev");
    expect(git(fx.repo, "status", "--porcelain")).toBe("");
  });
});
