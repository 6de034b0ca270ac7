import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { commitChanges } from "../../controller/workspace/commit.js";
import type { ConflictResolver, ResolveRequest } from "../../controller/workspace/conflicts.js";
import { mergeWorktree, resolveAndRequeue } from "../../controller/workspace/merge-queue.js";
import { createWorktrees } from "../../controller/workspace/worktrees.js";
import { latestResolveJob } from "../../state/resolve-jobs.repository.js";
import { readTaskRecord, writeTaskState } from "../../state/task-phase.repository.js";
import { git } from "../helpers/git-repo.js";
import { workspaceFixture, type WorkspaceFixture } from "./workspace-fixture.js";

/** Two tasks change the same line of README.md; `left` merges first, so `right` conflicts. */
async function conflictingPair(fx: WorkspaceFixture): Promise<void> {
  for (const { task, worktree } of await createWorktrees(fx.ctx, ["left", "right"])) {
    writeFileSync(join(worktree.path, "README.md"), `# target by ${task}\n`);
    await commitChanges(fx.ctx, { task, message: `docs: title by ${task}` });
  }
  expect((await mergeWorktree(fx.ctx, "left")).state).toBe("merged");
}

/** A stand-in resolver session: redoes the merge in the worktree, writes the resolved file, commits. */
function scriptedResolver(content: string, seen: ResolveRequest[]): ConflictResolver {
  return {
    async resolve(request) {
      seen.push(request);
      const merge = await execa("git", ["merge", request.target], { cwd: request.worktree, reject: false });
      expect(merge.exitCode).toBe(1);
      for (const file of request.conflictedFiles) writeFileSync(join(request.worktree, file), content);
      await execa("git", ["add", "-A"], { cwd: request.worktree });
      await execa("git", ["commit", "-q", "--no-edit"], { cwd: request.worktree });
      return { summary: `kept both titles in ${request.conflictedFiles.join(", ")}` };
    },
  };
}

describe("resolve_merge_conflict", () => {
  it("detects a real conflict, aborts cleanly, resolves through the resolver, re-gates and merges; the ledger shows every step", async () => {
    const fx = await workspaceFixture({ tasks: [{ name: "left" }, { name: "right" }] });
    await conflictingPair(fx);
    const rightPath = join(fx.worktrees, "right");
    const rightHead = git(rightPath, "rev-parse", "HEAD");
    const mainAfterLeft = git(fx.repo, "rev-parse", "main");

    const conflict = await mergeWorktree(fx.ctx, "right");
    expect([conflict.state, conflict.conflictedFiles]).toEqual(["conflict", ["README.md"]]);
    expect(git(rightPath, "status", "--porcelain")).toBe("");
    expect(existsSync(join(fx.repo, ".git/worktrees/right/MERGE_HEAD"))).toBe(false);
    expect(git(rightPath, "rev-parse", "HEAD")).toBe(rightHead);
    expect(git(fx.repo, "rev-parse", "main")).toBe(mainAfterLeft);
    expect((await readTaskRecord(fx.ctx.db, "right"))?.phase).toBe("Conflict");
    const job = (await latestResolveJob(fx.ctx.db, "right"))!;
    expect([job.key, job.state]).toEqual(["resolve:right:1", "issued"]);
    const prompt = String(job.result.prompt);
    expect(prompt).toContain(`Your branch: gaffer/build/right at ${rightHead}`);
    expect(prompt).toContain(`Integration branch: main at ${mainAfterLeft}`);
    expect(prompt).toContain("- README.md\n");
    expect(prompt).toContain("README.md:1\nours (gaffer/build/right):\n```\n# target by right\n```\ntheirs (main):\n```\n# target by left\n```");

    const seen: ResolveRequest[] = [];
    const { outcome, merge } = await resolveAndRequeue(fx.ctx, "right", { resolver: scriptedResolver("# target by left and right\n", seen) });
    expect(seen.map((r) => [r.task, r.worktree, r.branch, r.target, r.conflictedFiles, r.prompt])).toEqual([["right", rightPath, "gaffer/build/right", "main", ["README.md"], prompt]]);
    expect(outcome).toEqual({ task: "right", round: 1, resolved: true, reason: null, phase: "Merging" });
    expect(merge?.state).toBe("merged");
    expect(git(fx.repo, "show", "main:README.md")).toBe("# target by left and right");
    expect(readFileSync(join(fx.repo, "README.md"), "utf8")).toBe("# target by left and right\n");
    expect((await readTaskRecord(fx.ctx.db, "right"))?.phase).toBe("Merged");
    expect((await latestResolveJob(fx.ctx.db, "right"))?.state).toBe("done");
    const phases = (await fx.ctx.db.selectFrom("events").select("payload").where("subject", "=", "task/right").where("action", "=", "TaskPhaseChanged").orderBy("id").execute()).map((e) => (JSON.parse(e.payload) as { to: string }).to);
    expect(phases).toEqual(["Merging", "Conflict", "Resolving", "Merging", "Merged"]);
    const steps = (await fx.actions("task/right")).filter((a) => !["TaskPhaseChanged", "GateCommandStarted", "GateCommandFinished", "Committed"].includes(a));
    expect(steps).toEqual(["WorktreeCreated", "MergeQueued", "MergeStarted", "MergeConflict", "ResolveJobCreated", "ResolveStarted", "GatePassed", "ResolveSucceeded", "MergeQueued", "MergeStarted", "GatePassed", "MergeSucceeded", "WorktreeRemoved"]);
    const gates = await fx.ctx.db.selectFrom("gates").select(["task", "attempt", "state"]).where("task", "=", "right").orderBy("id").execute();
    expect(gates).toEqual([{ task: "right", attempt: 1, state: "passed" }, { task: "right", attempt: 2, state: "passed" }]);
  });

  it("a resolution that leaves markers fails the round; after maxResolveAttempts the task is Failed with the evidence", async () => {
    const fx = await workspaceFixture({ tasks: [{ name: "left" }, { name: "right" }], project: { policy: { maxResolveAttempts: 2 } } });
    await conflictingPair(fx);
    expect((await mergeWorktree(fx.ctx, "right")).state).toBe("conflict");
    const sloppy = scriptedResolver("<<<<<<< HEAD\n# a\n=======\n# b\n>>>>>>> main\n", []);
    const first = await resolveAndRequeue(fx.ctx, "right", { resolver: sloppy });
    expect(first.outcome).toEqual({ task: "right", round: 1, resolved: false, reason: "conflict markers remain (README.md:1, README.md:3, README.md:5, README.md:1: leftover conflict marker, README.md:3: leftover conflict marker, README.md:5: leftover conflict marker); remove them and commit", phase: "Conflict" });
    git(join(fx.worktrees, "right"), "reset", "-q", "--hard", "HEAD~1");
    const second = await resolveAndRequeue(fx.ctx, "right", { resolver: sloppy });
    expect([second.outcome.round, second.outcome.resolved, second.outcome.phase]).toEqual([2, false, "Failed"]);
    const failed = await fx.ctx.db.selectFrom("events").select("payload").where("subject", "=", "task/right").where("action", "=", "TaskPhaseChanged").orderBy("id", "desc").executeTakeFirstOrThrow();
    expect(JSON.parse(failed.payload)).toMatchObject({ to: "Failed", reason: "conflict not resolved after 2 rounds (policy.maxResolveAttempts 2)", evidence: { files: ["README.md"] } });
    await expect(resolveAndRequeue(fx.ctx, "right", { resolver: sloppy })).rejects.toThrow("task right has no open conflict to resolve (phase Failed); a conflict found by `gaffer merge --task right` opens one");
  });

  it("a retried task's new conflict opens a new resolve job (never its earlier round's finished one) and its resolver runs", async () => {
    const fx = await workspaceFixture({ tasks: [{ name: "left" }, { name: "right" }], project: { policy: { maxResolveAttempts: 1 } } });
    await conflictingPair(fx);
    expect((await mergeWorktree(fx.ctx, "right")).state).toBe("conflict");
    const sloppy = await resolveAndRequeue(fx.ctx, "right", { resolver: scriptedResolver("<<<<<<< HEAD\n# a\n=======\n# b\n>>>>>>> main\n", []) });
    expect([sloppy.outcome.round, sloppy.outcome.phase]).toEqual([1, "Failed"]);
    git(join(fx.worktrees, "right"), "reset", "-q", "--hard", "HEAD~1");
    // `gaffer retry right`: the controller's new round starts with its counters reset.
    await writeTaskState(fx.ctx.db, { name: "right", stage: "build", role: "builder", phase: "Merging", snapshot: null, actor: "test", reason: "retry round 1", gateAttempts: 0, resolveAttempts: 0, expected: "any" });
    expect((await mergeWorktree(fx.ctx, "right")).state).toBe("conflict");
    const job = (await latestResolveJob(fx.ctx.db, "right"))!;
    expect([job.key, job.state]).toEqual(["resolve:right:2", "issued"]);
    expect(String(job.result.prompt)).toContain("Resolve the merge conflict of task right (round 1 of 1).");
    const seen: ResolveRequest[] = [];
    const { outcome, merge } = await resolveAndRequeue(fx.ctx, "right", { resolver: scriptedResolver("# target by left and right\n", seen) });
    expect(seen.length).toBe(1);
    expect([outcome.resolved, merge?.state]).toEqual([true, "merged"]);
    expect(git(fx.repo, "show", "main:README.md")).toBe("# target by left and right");
  });
});
