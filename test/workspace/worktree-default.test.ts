import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { expect, test } from "vitest";
import { runGaffer } from "../helpers/cli.js";
import { controlDir } from "../helpers/control-dir.js";
import { git } from "../helpers/git-repo.js";
import { recordStagePhase } from "../helpers/stage-phase.js";

test("without spec.worktreeRoot a task's worktree goes beside the target repo, never inside it; validate and status say where", async () => {
  // The control dir is the target repo (`repo: .`), the layout `gaffer init` makes in a user's repo.
  const fx = controlDir({ tasks: [{ name: "add-a" }] });
  const expected = join(dirname(fx.repo), "repo.gaffer-worktrees");
  const gaffer = (...args: string[]) => runGaffer([...args, "--dir", fx.dir]);

  const validate = await gaffer("validate");
  expect({ exitCode: validate.exitCode, stderr: validate.stderr }).toEqual({ exitCode: 0, stderr: "" });
  expect(validate.stdout).toMatch(new RegExp(`; task worktrees go under ${expected.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`));
  expect(JSON.parse((await gaffer("validate", "--json")).stdout)).toMatchObject({ valid: true, worktreeRoot: expected });

  await recordStagePhase(fx.dir, "build", "Running");
  const created = await gaffer("worktree", "create", "--task", "add-a");
  expect(created.exitCode).toBe(0);
  expect(git(join(expected, "add-a"), "branch", "--show-current")).toBe("gaffer/build/add-a");
  // Nothing of it is inside the target repo: `git status` there sees no untracked folder.
  expect(git(fx.repo, "status", "--porcelain")).toBe("");
  expect(existsSync(join(fx.repo, ".gaffer/worktrees"))).toBe(false);

  const status = await gaffer("status");
  expect(status.stdout.split("\n")[1]).toBe(`worktrees: ${expected}`);
  expect(JSON.parse((await gaffer("status", "--json")).stdout)).toMatchObject({ worktreeRoot: expected });
}, 60_000);
