import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { commitChanges } from "../../controller/workspace/commit.js";
import { createWorktree } from "../../controller/workspace/worktrees.js";
import { listEvents } from "../../state/events.repository.js";
import { git } from "../helpers/git-repo.js";
import { workspaceFixture } from "./workspace-fixture.js";

async function withWorktree() {
  const fx = await workspaceFixture({ tasks: [{ name: "login" }] });
  const { worktree } = await createWorktree(fx.ctx, "login");
  return { fx, path: worktree.path };
}

const CONVENTIONAL = "^(feat|fix|docs|style|refactor|perf|test|build|ci|chore|revert)(\\([a-z0-9-]+\\))?!?: .+";

describe("commit_changes", () => {
  it("refuses a message that breaks the commit format, saying the rule and an example", async () => {
    const { fx, path } = await withWorktree();
    writeFileSync(join(path, "login.ts"), "export {};\n");
    await expect(commitChanges(fx.ctx, { task: "login", message: "added stuff" })).rejects.toMatchObject({
      code: "POLICY_COMMIT_FORMAT",
      message: `subject "added stuff" does not match policy.commitFormat conventional commits (/${CONVENTIONAL}/); write it like "feat(login): add the login form"`,
    });
    expect(git(path, "status", "--porcelain")).toBe("?? login.ts");
    const refusals = await listEvents(fx.ctx.db, { action: "PolicyRefused" });
    expect(refusals.map((e) => [e.subject, e.payload.rule])).toEqual([["task/login", "POLICY_COMMIT_FORMAT"]]);
  });

  it("refuses to commit on a protected branch", async () => {
    const { fx, path } = await withWorktree();
    git(path, "switch", "-q", "--ignore-other-worktrees", "main");
    writeFileSync(join(path, "login.ts"), "export {};\n");
    await expect(commitChanges(fx.ctx, { task: "login", message: "feat: login" })).rejects.toMatchObject({
      code: "POLICY_PROTECTED_BRANCH",
      message: `the worktree of task login is on protected branch "main", which only receives gated merges; switch it back to gaffer/build/login (git switch gaffer/build/login) and commit there`,
    });
    git(path, "switch", "-q", "-c", "elsewhere");
    await expect(commitChanges(fx.ctx, { task: "login", message: "feat: login" })).rejects.toMatchObject({ code: "POLICY_WRONG_BRANCH", message: `the worktree of task login is on branch "elsewhere", not the task's branch "gaffer/build/login"; switch back (git switch gaffer/build/login) and commit there` });
    expect(git(fx.repo, "rev-list", "--count", "main")).toBe("2");
  });

  it("refuses a .env file unless explicitly allowed", async () => {
    const { fx, path } = await withWorktree();
    writeFileSync(join(path, ".env"), "TOKEN=secret\n");
    writeFileSync(join(path, "app.ts"), "export {};\n");
    await expect(commitChanges(fx.ctx, { task: "login", message: "feat: app" })).rejects.toMatchObject({
      code: "POLICY_SECRET_FILE",
      message: "refusing to commit a file on the secrets denylist: .env (matches .env); delete it or add to .gitignore, or if it holds no secret pass --allow-secret .env",
      details: { files: [".env"], globs: [".env"] },
    });
    expect(git(path, "diff", "--cached", "--name-only")).toBe("");
    const allowed = await commitChanges(fx.ctx, { task: "login", message: "feat: app with sample env", allowSecrets: [".env"] });
    expect(allowed.files.map((f) => f.path).sort()).toEqual([".env", "app.ts"]);
  });

  it("commits with the three trailers and returns the changed-files summary; nothing changed is a no-op", async () => {
    const { fx, path } = await withWorktree();
    writeFileSync(join(path, "login.ts"), "a\nb\nc\n");
    writeFileSync(join(path, "README.md"), "# target\nmore\n");
    const result = await commitChanges(fx.ctx, { task: "login", message: "feat(login): add the login form", session: "sess-1", command: "cmd-7" });
    expect(result.sha).toBe(git(path, "rev-parse", "HEAD"));
    expect(result.summary).toEqual({ added: 1, modified: 1, deleted: 0, insertions: 4, deletions: 0 });
    expect(git(path, "log", "-1", "--format=%B")).toBe("feat(login): add the login form\n\nGaffer-Task: login\nGaffer-Session: sess-1\nGaffer-Command: cmd-7");
    expect(git(path, "log", "-1", "--format=%(trailers:key=Gaffer-Task,valueonly)%(trailers:key=Gaffer-Session,valueonly)%(trailers:key=Gaffer-Command,valueonly)")).toBe("login\nsess-1\ncmd-7");
    git(path, "rm", "-q", "login.ts");
    const removed = await commitChanges(fx.ctx, { task: "login", message: "refactor: drop login.ts" });
    expect(removed.summary).toEqual({ added: 0, modified: 0, deleted: 1, insertions: 0, deletions: 3 });
    const noop = await commitChanges(fx.ctx, { task: "login", message: "chore: nothing" });
    expect(noop).toMatchObject({ noop: true, sha: null, files: [] });
    expect((await listEvents(fx.ctx.db, { action: "Committed" })).map((e) => e.commitSha)).toEqual([result.sha, removed.sha]);
  });
});
