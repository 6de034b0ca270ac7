import { cpSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";
import { reserveCapacity } from "../../controller/sessions/reserve-capacity.js";
import { openLedger } from "../../state/ledger.js";
import { runGaffer } from "../helpers/cli.js";
import { tempDir } from "../helpers/temp.js";

const REPO_MANIFESTS = fileURLToPath(new URL("../../manifests/", import.meta.url));

function controlDir(): string {
  const dir = tempDir();
  cpSync(REPO_MANIFESTS, join(dir, "manifests"), { recursive: true });
  return dir;
}

test("gaffer plan prints the allocation table and exits 0 when every role is staffed", async () => {
  const dir = controlDir();
  const result = await runGaffer(["plan", "build", "--dir", dir]);
  expect(result.stderr).toBe("");
  expect(result.exitCode).toBe(0);
  expect(result.stdout).toBe(
    [
      "stage build: capacity global 0/4 in use",
      "ROLE      AGENT     MODEL       COUNT  STAFFED  TASKS",
      "builder   scripted  scripted-1  3      3/3      add-feature",
      "reviewer  scripted  scripted-1  1      1/1      -",
      "",
      "all roles staffed",
    ].join("\n"),
  );
});

test("gaffer plan --json reports blocked roles with structured reasons, counting ledger reservations", async () => {
  const dir = controlDir();
  const db = await openLedger(join(dir, ".gaffer", "ledger.sqlite"));
  const limits = { global: 4, perAgent: { scripted: 4 }, perRole: {} };
  for (let i = 0; i < 3; i++) await reserveCapacity(db, limits, { agent: "scripted", role: "tester", holder: `h${i}`, actor: "test" });
  await db.destroy();
  const result = await runGaffer(["plan", "build", "--dir", dir, "--json"]);
  expect(result.exitCode).toBe(1);
  const report = JSON.parse(result.stdout);
  expect(report.feasible).toBe(false);
  expect(report.inUse).toEqual({ global: 3, byAgent: { scripted: 3 }, byRole: { tester: 3 } });
  expect(report.roles[0].assignments).toEqual([{ agent: "scripted", model: "scripted-1", count: 1 }]);
  expect(report.roles[0].blocked).toEqual([{ code: "CAPACITY_EXCEEDED", scope: "global", key: "global", limit: 4, inUse: 4, requested: 2 }]);
  const text = await runGaffer(["plan", "build", "--dir", dir]);
  expect(text.stdout).toContain("blocked roles:\n  builder: CAPACITY_EXCEEDED global: limit 4, in use 4, requested 2\n  reviewer: CAPACITY_EXCEEDED global: limit 4, in use 4, requested 1");
});

test("an unknown stage is NOT_FOUND; a bad --parallelism is a usage error", async () => {
  const dir = controlDir();
  const missing = await runGaffer(["plan", "ship", "--dir", dir]);
  expect(missing.exitCode).toBe(1);
  expect(missing.stderr).toBe('error: NOT_FOUND: no stage "ship" in any Playbook; `gaffer get stages` lists them');
  const bad = await runGaffer(["plan", "build", "--dir", dir, "--parallelism", "zero"]);
  expect(bad.exitCode).toBe(2);
  expect(bad.stderr).toBe("error: USAGE: --parallelism must be a positive integer (got zero)");
});

test("gaffer log and get read the ledger, filtered by subject and time", async () => {
  const dir = controlDir();
  const db = await openLedger(join(dir, ".gaffer", "ledger.sqlite"));
  await reserveCapacity(db, { global: 1, perAgent: { scripted: 1 }, perRole: {} }, { agent: "scripted", role: "builder", task: "a", holder: "h", actor: "test" });
  await reserveCapacity(db, { global: 1, perAgent: { scripted: 1 }, perRole: {} }, { agent: "scripted", role: "builder", task: "b", holder: "h2", actor: "test" }).catch(() => undefined);
  await db.destroy();
  const log = await runGaffer(["log", "--dir", dir, "--json", "--subject", "task/b", "--since", "1h"]);
  expect(log.exitCode).toBe(0);
  const events = JSON.parse(log.stdout);
  expect(events.map((e: { action: string }) => e.action)).toEqual(["CapacityRefused"]);
  expect(events[0].payload).toMatchObject({ code: "CAPACITY_EXCEEDED", scope: "global", limit: 1, inUse: 1 });
  const get = await runGaffer(["get", "reservations", "--dir", dir, "--json"]);
  expect(JSON.parse(get.stdout).map((r: { task: string; state: string }) => [r.task, r.state])).toEqual([["a", "held"]]);
  const badKind = await runGaffer(["get", "nonsense", "--dir", dir]);
  expect(badKind.exitCode).toBe(2);
  expect(badKind.stderr).toMatch(/^error: USAGE: unknown kind "nonsense"/);
});
