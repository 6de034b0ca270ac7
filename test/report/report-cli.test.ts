import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { Report } from "../../controller/report/report-model.js";
import { openLedger } from "../../state/ledger.js";
import { runGaffer } from "../helpers/cli.js";
import { sharedDemo } from "../helpers/shared-demo.js";

// The run's one real `gaffer demo --keep DIR --json` (test/helpers/shared-demo.ts), shared with test/demo.
let root = "";
let control = "";
let sessionIds: string[] = [];
let commandCount = 0;

beforeAll(async () => {
  ({ root, control } = await sharedDemo());
  const db = await openLedger(join(control, ".gaffer", "ledger.sqlite"));
  try {
    sessionIds = (await db.selectFrom("sessions").select("id").execute()).map((s) => s.id);
    commandCount = (await db.selectFrom("commands").select("id").execute()).length;
  } finally {
    await db.destroy();
  }
}, 300_000);

describe("gaffer report on a real demo run", () => {
  it("--json prints the Report: every stage Passed, every session, every command done", async () => {
    const result = await runGaffer(["report", "--dir", control, "--json"]);
    expect(result.exitCode, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as Report;
    expect(report.project).toBe("calc");
    expect(report.stages.map((s) => `${s.name}:${s.phase}`)).toEqual(["plan:Passed", "build:Passed", "test:Passed", "merge:Passed"]);
    expect(report.stages.every((s) => s.elapsedMs > 0)).toBe(true);
    expect(report.sessions.map((s) => s.id).sort()).toEqual([...sessionIds].sort());
    expect(report.commandsByState).toEqual({ done: commandCount });
    for (const s of report.sessions) {
      expect(s.busyMs + s.idleMs + s.waitingMs + s.pausedMs + s.startingMs + s.errorMs + s.stuckMs + s.otherMs).toBe(s.lifetimeMs);
      expect(s.utilization).toBeGreaterThan(0);
    }
    expect(report.bottlenecks.map((b) => b.key).sort()).toEqual(["approval", "capacity", "conflicts", "gates", "merge-queue"]);
    // The demo's conflict loop ran, and three stages waited for the demo approver.
    expect(report.bottlenecks.find((b) => b.key === "conflicts")!.ms).toBeGreaterThan(0);
    expect(report.bottlenecks.find((b) => b.key === "approval")!.count).toBe(3);
  });

  it("text tables by default; --stage narrows them; an unknown stage is an error", async () => {
    const text = await runGaffer(["report", "--dir", control]);
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^gaffer report: calc, \d{4}-\d\d-\d\dT.* \(\d+\.\ds\)$/m);
    for (const heading of ["== stages", "== sessions", "== commands by state: done", "== agents and models", "== bottlenecks"]) expect(text.stdout).toContain(heading);
    const build = await runGaffer(["report", "--dir", control, "--stage", "build", "--json"]);
    const report = JSON.parse(build.stdout) as Report;
    expect(report.stages.map((s) => s.name)).toEqual(["build"]);
    expect(report.lanes.filter((l) => l.kind === "task").map((l) => l.name).sort()).toEqual(["add-docs", "add-multiply", "add-subtract"]);
    const wrong = await runGaffer(["report", "--dir", control, "--stage", "nope"]);
    expect(wrong.exitCode).toBe(1);
    expect(wrong.stderr.trim()).toBe("error: NOT_FOUND: stage nope is not in the ledger (known: build, merge, plan, test)");
  });

  it("--html writes one file, prints its path, with a timeline bar for every session row in the ledger", async () => {
    const file = join(root, "report.html");
    const result = await runGaffer(["report", "--dir", control, "--html", file]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe(file);
    expect(existsSync(file)).toBe(true);
    const html = readFileSync(file, "utf8");
    expect(html).toContain('<svg id="timeline"');
    const lanes = new Set([...html.matchAll(/<rect class="bar" data-lane="session\/([^"]+)" data-state="([a-z]+)"/g)].map((m) => m[1]));
    expect([...lanes].sort()).toEqual([...sessionIds].sort());
    for (const stage of ["plan", "build", "test", "merge"]) expect(html).toContain(`data-lane="stage/${stage}"`);
    expect(html).not.toMatch(/<script|\s(src|href)=["']/i);
  });
});
