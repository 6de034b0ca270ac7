import { join } from "node:path";
import { expect, test } from "vitest";
import { openLedger } from "../../state/ledger.js";
import { runGaffer } from "../helpers/cli.js";
import { flowFixture } from "../helpers/flow-fixture.js";

test("gaffer gate run runs a task's gate in its worktree, ledgered, and exits 1 when it fails", async () => {
  const { dir } = flowFixture({ gate: "[[git, status, --short], [test, -f, a.txt]]" });
  expect((await runGaffer(["worktree", "create", "--task", "add-a", "--override", "try the gate by hand", "--dir", dir])).exitCode).toBe(0);
  const failing = await runGaffer(["gate", "run", "--task", "add-a", "--dir", dir]);
  expect(failing.exitCode).toBe(1);
  expect(failing.stdout).toMatch(/^gate of add-a \(attempt 1 on [0-9a-f]{12}\): FAILED: /);
  expect(failing.stdout).toContain("  failed  test -f a.txt  (exit 1,");
  const db = await openLedger(join(dir, ".gaffer/ledger.sqlite"));
  const rows = await db.selectFrom("gates").select(["command", "state", "exit_code"]).orderBy("id").execute();
  await db.destroy();
  expect(rows).toEqual([
    { command: '["git","status","--short"]', state: "passed", exit_code: 0 },
    { command: '["test","-f","a.txt"]', state: "failed", exit_code: 1 },
  ]);
  const usage = await runGaffer(["gate", "run", "--dir", dir]);
  expect(usage.exitCode).toBe(2);
  expect(usage.stderr).toBe("error: USAGE: gate run needs --task TASK");
});
