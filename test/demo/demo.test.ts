import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { openLedger } from "../../state/ledger.js";
import { runGaffer } from "../helpers/cli.js";
import { git } from "../helpers/git-repo.js";
import { sharedDemo } from "../helpers/shared-demo.js";

test("the demo runs plan -> build -> test -> merge end to end: everything merged, tests pass on main, the conflict resolved, memory written", async () => {
  // `gaffer demo --keep DIR --json`, run once for this file and test/report (only read here, but for checking out main).
  const result = await sharedDemo();
  try {
    expect(result.progress).toMatch(/approval: demo-approver@gaffer\.dev committed "approved" for build-[0-9a-f]{12}/);
    // Every task's work is on the integration branch, and the target's real tests pass there.
    const files = git(result.target, "ls-tree", "-r", "--name-only", "main").split("\n").sort();
    expect(files).toEqual(["CHANGELOG.md", "PLAN.md", "README.md", "calc.js", "package.json", "test/add.test.js", "test/all.test.js", "test/multiply.test.js", "test/subtract.test.js"]);
    const calc = git(result.target, "show", "main:calc.js");
    expect(calc).toContain("export function multiply(a, b)");
    expect(calc).toContain("export function subtract(a, b)");
    expect(calc).not.toMatch(/^(<{7}|={7}|>{7})/m);
    git(result.target, "checkout", "-q", "main");
    const tests = execFileSync(process.execPath, ["--test"], { cwd: result.target, encoding: "utf8" });
    expect(tests).toMatch(/# pass 4/);

    const db = await openLedger(join(result.control, ".gaffer", "ledger.sqlite"));
    try {
      const stages = await db.selectFrom("stages").select(["name", "phase"]).orderBy("name").execute();
      expect(stages.map((s) => `${s.name}:${s.phase}`)).toEqual(["build:Passed", "merge:Passed", "plan:Passed", "test:Passed"]);
      const tasks = await db.selectFrom("tasks").select(["name", "phase", "resolve_attempts"]).execute();
      expect(tasks.every((t) => t.phase === "Merged")).toBe(true);
      // The two builders appended to the same lines of calc.js: one of them went through the conflict loop.
      const conflicts = await db.selectFrom("events").select(["subject"]).where("action", "=", "MergeConflict").execute();
      expect(conflicts.length).toBeGreaterThanOrEqual(1);
      expect(await db.selectFrom("events").select("id").where("action", "=", "ResolveSucceeded").execute()).not.toHaveLength(0);
      const kinds = new Set((await db.selectFrom("memory").select("kind").execute()).map((m) => m.kind));
      expect([...kinds].sort()).toEqual(["decision", "plan", "review", "summary"]);
      const open = await db.selectFrom("commands").select("state").where("state", "not in", ["done", "failed", "stranded"]).execute();
      expect(open).toEqual([]);
      // Capacity (4) was never exceeded.
      let held = 0;
      let max = 0;
      for (const e of await db.selectFrom("events").select("action").orderBy("id").execute()) {
        held += e.action === "CapacityReserved" ? 1 : e.action === "CapacityReleased" ? -1 : 0;
        max = Math.max(max, held);
      }
      expect(max).toBeLessThanOrEqual(4);
      expect(max).toBeGreaterThanOrEqual(3);
    } finally {
      await db.destroy();
    }
    const status = await runGaffer(["status", "--dir", result.control]);
    expect(status.stdout).toContain("waiting for: nothing");
    // The demo stops its own tmux server: no control client's session keeps it alive after the run.
    const server = spawnSync("tmux", ["-L", result.socket, "list-sessions"], { encoding: "utf8", env: { ...process.env, TMUX: "" } });
    expect(server.stderr).toMatch(/no server running|error connecting/);
  } finally {
    try {
      execFileSync("tmux", ["-L", result.socket, "kill-server"], { stdio: "ignore", env: { ...process.env, TMUX: "" } });
    } catch {
      // every session was closed already
    }
  }
}, 300_000);

test("demo --timeout takes whole seconds, at least 10, and says so before it starts anything", async () => {
  const result = await runGaffer(["demo", "--timeout", "5s", "--keep", "/nonexistent/gaffer-demo-canary"]);
  expect(result.exitCode).toBe(2);
  expect(result.stderr.trim()).toBe('error: USAGE: --timeout takes whole seconds, at least 10 (got "5s"); the default is 120');
  expect(existsSync("/nonexistent/gaffer-demo-canary")).toBe(false);
});
