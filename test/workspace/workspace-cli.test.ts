import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { runGaffer } from "../helpers/cli.js";
import { controlDir } from "../helpers/control-dir.js";
import { git } from "../helpers/git-repo.js";
import { recordStagePhase } from "../helpers/stage-phase.js";

describe("gaffer worktree|commit|merge|resolve", () => {
  it("runs the whole path from the CLI, prints refusals as POLICY lines, and a person can resolve a conflict by hand", async () => {
    const fx = controlDir({ tasks: [{ name: "left" }, { name: "right" }] });
    const gaffer = (...args: string[]) => runGaffer([...args, "--dir", fx.dir]);
    await recordStagePhase(fx.dir, "build", "Running");
    const created = await gaffer("worktree", "create", "--stage", "build");
    expect(created.stdout.split("\n").map((l) => l.split("  ").slice(0, 3).join(" "))).toEqual(["created left gaffer/build/left", "created right gaffer/build/right"]);
    expect((await gaffer("worktree", "create", "--task", "left")).stdout).toMatch(/^unchanged {2}left/);
    const root = fx.worktrees;
    for (const task of ["left", "right"]) writeFileSync(join(root, task, "README.md"), `# by ${task}\n`);

    const bad = await gaffer("commit", "--task", "left", "-m", "wip");
    expect([bad.exitCode, bad.stderr]).toEqual([1, `error: POLICY_COMMIT_FORMAT: subject "wip" does not match policy.commitFormat conventional commits (/^(feat|fix|docs|style|refactor|perf|test|build|ci|chore|revert)(\\([a-z0-9-]+\\))?!?: .+/); write it like "feat(login): add the login form"`]);
    for (const task of ["left", "right"]) expect((await gaffer("commit", "--task", task, "-m", `docs: title by ${task}`, "--session", "s-1")).stdout).toMatch(new RegExp(`^committed [0-9a-f]{12} on gaffer/build/${task}: 0 added, 1 modified, 0 deleted, \\+1 -1$`));
    expect((await gaffer("merge", "--task", "left")).stdout).toMatch(/^merged left \(gaffer\/build\/left\) into main at [0-9a-f]{12}$/);

    const conflict = await gaffer("merge", "--task", "right");
    expect([conflict.exitCode, conflict.stderr]).toEqual([1, "error: MERGE_CONFLICT: merging main into gaffer/build/right conflicts in README.md; the merge was aborted and a resolve job created (gaffer resolve --task right once resolved)"]);
    const right = join(root, "right");
    const early = await gaffer("resolve", "--task", "right");
    expect([early.exitCode, early.stderr]).toEqual([1, `error: MERGE_CONFLICT: task right is not resolved yet: the branch does not contain main at ${git(fx.repo, "rev-parse", "main").slice(0, 12)} yet; in the worktree run \`git merge ${git(fx.repo, "rev-parse", "main").slice(0, 12)}\` (or rebase onto it), resolve, and commit; then run \`gaffer resolve --task right\` again`]);
    expect((await execa("git", ["merge", "main"], { cwd: right, reject: false })).exitCode).toBe(1);
    writeFileSync(join(right, "README.md"), "# by left and right\n");
    expect((await gaffer("commit", "--task", "right", "-m", "fix: merge main, keep both titles")).exitCode).toBe(0);
    const resolved = await gaffer("resolve", "--task", "right");
    expect(resolved.stdout).toMatch(/^resolved right \(round 1\); merged into main at [0-9a-f]{12}$/);
    expect(git(fx.repo, "show", "main:README.md")).toBe("# by left and right");

    const merges = JSON.parse((await gaffer("get", "merges", "--json")).stdout) as { task: string; state: string; conflictedFiles: string[] | null }[];
    expect(merges.map((m) => [m.task, m.state, m.conflictedFiles])).toEqual([["left", "merged", null], ["right", "conflict", ["README.md"]], ["right", "merged", null]]);
    const worktrees = JSON.parse((await gaffer("get", "worktrees", "--json")).stdout) as { task: string; state: string }[];
    expect(worktrees.map((w) => [w.task, w.state])).toEqual([["left", "removed"], ["right", "removed"]]);
    const gates = JSON.parse((await gaffer("get", "gates", "--json")).stdout) as { task: string; state: string }[];
    expect(gates.map((g) => [g.task, g.state])).toEqual([["left", "passed"], ["right", "passed"], ["right", "passed"]]);
    expect((await gaffer("worktree", "list")).stdout).toBe("no worktrees");
  });
});
