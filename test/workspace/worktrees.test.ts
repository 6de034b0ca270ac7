import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { TaskManifest } from "../../controller/core/manifest-types.js";
import { createWorktree, createWorktrees, listWorktrees, removeWorktree } from "../../controller/workspace/worktrees.js";
import { listEvents } from "../../state/events.repository.js";
import { listWorktreeRecords } from "../../state/worktrees.repository.js";
import { git } from "../helpers/git-repo.js";
import { tempDir } from "../helpers/temp.js";
import { workspaceFixture } from "./workspace-fixture.js";

const FIVE = ["alpha", "bravo", "charlie", "delta", "echo"].map((name) => ({ name }));

describe("create_worktree", () => {
  it("provisions 5 tasks, and a second run changes nothing", async () => {
    const fx = await workspaceFixture({ tasks: FIVE });
    const main = git(fx.repo, "rev-parse", "main");
    const first = await createWorktrees(fx.ctx, FIVE.map((t) => t.name));
    expect(first.map((o) => o.action)).toEqual(["created", "created", "created", "created", "created"]);
    for (const { name } of FIVE) {
      const path = join(fx.worktrees, name);
      expect(git(path, "branch", "--show-current")).toBe(`gaffer/build/${name}`);
      expect(git(path, "rev-parse", "HEAD")).toBe(main);
    }
    const rows = await listWorktreeRecords(fx.ctx.db);
    expect(rows.map((r) => [r.task, r.stage, r.role, r.branch, r.baseSha, r.state])).toEqual(FIVE.map(({ name }) => [name, "build", "builder", `gaffer/build/${name}`, main, "active"]));
    const eventsBefore = (await listEvents(fx.ctx.db)).length;
    const worktreesBefore = git(fx.repo, "worktree", "list", "--porcelain");

    const second = await createWorktrees(fx.ctx, FIVE.map((t) => t.name));
    expect(second.map((o) => o.action)).toEqual(["unchanged", "unchanged", "unchanged", "unchanged", "unchanged"]);
    expect(second.map((o) => o.worktree.id)).toEqual(rows.map((r) => r.id));
    expect((await listEvents(fx.ctx.db)).length).toBe(eventsBefore);
    expect(git(fx.repo, "worktree", "list", "--porcelain")).toBe(worktreesBefore);
    expect((await listWorktrees(fx.ctx)).every((w) => w.present)).toBe(true);
  });

  it("adopts a right worktree missing from the ledger and reports a foreign or stale one", async () => {
    const fx = await workspaceFixture({ tasks: [{ name: "adopted" }, { name: "foreign" }, { name: "stale" }] });
    const root = fx.worktrees;
    git(fx.repo, "worktree", "add", "-q", "-b", "gaffer/build/adopted", join(root, "adopted"), "main");
    git(fx.repo, "worktree", "add", "-q", "-b", "other", join(root, "foreign"), "main");
    mkdirSync(join(root, "stale"), { recursive: true });
    writeFileSync(join(root, "stale", "keep.txt"), "mine\n");
    expect((await createWorktree(fx.ctx, "adopted")).action).toBe("adopted");
    await expect(createWorktree(fx.ctx, "foreign")).rejects.toThrow(`${join(root, "foreign")} is a worktree on branch other, not on gaffer/build/foreign (foreign); remove it (git worktree remove ${join(root, "foreign")}) or rename the task`);
    await expect(createWorktree(fx.ctx, "stale")).rejects.toThrow(`${join(root, "stale")} exists but is not a worktree of ${fx.repo} (stale or foreign); move it away or delete it, then run again`);
    expect(readFileSync(join(root, "stale", "keep.txt"), "utf8")).toBe("mine\n");
    expect(git(join(root, "foreign"), "branch", "--show-current")).toBe("other");
  });

  it("keeps hostile task names inside worktreeRoot", async () => {
    const fx = await workspaceFixture({ tasks: [{ name: "linked" }, { name: "ok" }] });
    const root = fx.worktrees;
    const outside = tempDir("gaffer-outside-");
    mkdirSync(root, { recursive: true });
    symlinkSync(outside, join(root, "linked"));
    const hostile = (name: string): TaskManifest => ({ apiVersion: "gaffer/v1", kind: "Task", metadata: { name }, spec: { stage: "build", role: "builder", prompt: "x", branch: "gaffer/hostile" } });
    for (const name of ["../escape", "/tmp/abs", "a/../../b", "..", "sub/dir"]) {
      const ctx = { ...fx.ctx, manifests: { ...fx.ctx.manifests, tasks: [hostile(name)] } };
      await expect(createWorktree(ctx, name)).rejects.toMatchObject({ code: "PATH_ESCAPE", message: `task name ${JSON.stringify(name)} would place its worktree outside ${root}; a task name must be one plain path component (letters, digits, "-")` });
    }
    await expect(createWorktree(fx.ctx, "linked")).rejects.toMatchObject({ code: "PATH_ESCAPE", message: `${join(root, "linked")} is a symlink to ${outside}, outside ${root}; remove the link, gaffer never follows links out of worktreeRoot` });
    expect(existsSync(join(outside, ".git"))).toBe(false);
    expect(git(fx.repo, "branch", "--list", "gaffer/*")).toBe("");
    expect((await createWorktree(fx.ctx, "ok")).action).toBe("created");
  });
});

describe("worktree remove", () => {
  it("refuses to drop uncommitted work without force; with force the work is on a salvage branch", async () => {
    const fx = await workspaceFixture({ tasks: [{ name: "wip" }] });
    const { worktree } = await createWorktree(fx.ctx, "wip");
    writeFileSync(join(worktree.path, "notes.md"), "half done\n");
    writeFileSync(join(worktree.path, "README.md"), "# changed\n");
    await expect(removeWorktree(fx.ctx, "wip")).rejects.toMatchObject({
      code: "UNCOMMITTED_WORK",
      message: `the worktree of task wip (${worktree.path}) has 2 uncommitted changes (README.md, notes.md); commit them (gaffer commit --task wip -m MSG) or pass --force to save them on a gaffer/salvage/ branch first`,
    });
    expect(existsSync(join(worktree.path, "notes.md"))).toBe(true);

    const removed = await removeWorktree(fx.ctx, "wip", { force: true });
    expect(removed.salvageBranch).toMatch(/^gaffer\/salvage\/wip-\d{8}T\d{6}Z$/);
    expect(existsSync(worktree.path)).toBe(false);
    expect(git(fx.repo, "show", `${removed.salvageBranch}:notes.md`)).toBe("half done");
    expect(git(fx.repo, "show", `${removed.salvageBranch}:README.md`)).toBe("# changed");
    expect(git(fx.repo, "rev-parse", `${removed.salvageBranch}^`)).toBe(git(fx.repo, "rev-parse", "gaffer/build/wip"));
    expect(await fx.actions("task/wip")).toEqual(["WorktreeCreated", "WorktreeRemoveRefused", "WorktreeSalvaged", "WorktreeRemoved"]);
    expect(await listWorktreeRecords(fx.ctx.db)).toEqual([]);
  });
});
