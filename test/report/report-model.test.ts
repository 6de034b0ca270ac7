import { bottleneckSubjects } from "../../controller/report/report-bottlenecks.js";
import { describe, expect, it, onTestFinished } from "vitest";
import { buildReport, formatReport } from "../../controller/report/report.js";
import { appendAgentEvent } from "../../state/agent-events.repository.js";
import { carvePauses, union } from "../../controller/report/report-intervals.js";
import { knownLedger, NOW, T0_MS } from "./report-fixture.js";

/** Seconds after T0 as epoch ms. */
const t = (s: number): number => T0_MS + s * 1000;

async function report(stage?: string) {
  const db = await knownLedger();
  onTestFinished(() => db.destroy());
  return buildReport(db, { now: NOW, project: "known", ...(stage === undefined ? {} : { stage }) });
}

describe("report figures from a ledger with known timings", () => {
  it("stage elapsed (first phase after Pending to Passed, or now) and approval wait", async () => {
    const r = await report();
    expect(r.stages).toEqual([
      { name: "build", phase: "Passed", elapsedMs: 49_000, approvalWaitMs: 10_000, usage: { tokens: "unknown", cost: "unknown", unknownSessions: 2 } },
      { name: "docs", phase: "Running", elapsedMs: 55_000, approvalWaitMs: 4_000, usage: { tokens: "unknown", cost: "unknown", unknownSessions: 1 } },
    ]);
    expect([r.project, r.stage, r.generatedAt, r.start, r.end]).toEqual(["known", null, NOW, t(0), t(60)]);
  });

  it("session busy/idle/waiting/paused/other partition the lifetime; pauses are a union; utilization = busy / lifetime", async () => {
    const r = await report();
    const pick = (id: string) => r.sessions.find((s) => s.id === id);
    // s-a: starting 13-14, running 14-20, idle 20-22, running 22-24, waiting 24-26, idle 26-28; project paused 21-23 and task paused 22.5-24.5.
    expect(pick("s-a")).toEqual({ id: "s-a", task: "a", role: "builder", agent: "claude", model: "opus", lifetimeMs: 15_000, busyMs: 6_000, idleMs: 3_000, waitingMs: 1_500, pausedMs: 3_500, startingMs: 1_000, errorMs: 0, stuckMs: 0, otherMs: 0, utilization: 0.4, tokens: "unknown", cost: "unknown" });
    // s-b: open until now (60); the project pause 21-23 cuts its running stretch.
    expect(pick("s-b")).toMatchObject({ lifetimeMs: 44_000, busyMs: 7_500, idleMs: 34_000, waitingMs: 0, pausedMs: 2_000, startingMs: 500, otherMs: 0, utilization: 7_500 / 44_000 });
    expect(pick("s-c")).toMatchObject({ lifetimeMs: 5_000, busyMs: 5_000, idleMs: 0, pausedMs: 0, startingMs: 0, otherMs: 0, utilization: 1 });
    const lane = r.lanes.find((l) => l.kind === "session" && l.name === "s-a")!;
    expect(lane.current).toBe("closed");
    expect(lane.intervals.map((i) => [i.state, (i.start - T0_MS) / 1000, (i.end - T0_MS) / 1000])).toEqual([
      ["starting", 13, 14], ["running", 14, 20], ["idle", 20, 21], ["paused", 21, 24.5], ["waiting", 24.5, 26], ["idle", 26, 28],
    ]);
  });

  it("commands by state and agent/model usage (tokens and cost unknown)", async () => {
    const r = await report();
    expect(r.commandsByState).toEqual({ done: 3, failed: 1, issued: 1, stranded: 1 });
    expect(r.agents).toEqual([
      { agent: "claude", model: "opus", sessions: 2, commands: 5, restarts: 2, busyMs: 13_500, errorMs: 0, stuckMs: 0, tokens: "unknown", cost: "unknown", unknownSessions: 2 },
      { agent: "codex", model: null, sessions: 1, commands: 1, restarts: 0, busyMs: 5_000, errorMs: 0, stuckMs: 0, tokens: "unknown", cost: "unknown", unknownSessions: 1 },
    ]);
  });

  it("tokens the agents reported (the latest total per session) and cost at the AgentPool's price; unknown stays unknown, never 0", async () => {
    const db = await knownLedger();
    onTestFinished(() => db.destroy());
    await appendAgentEvent(db, { sessionId: "s-a", agent: "claude", event: "Stop", usage: { input: 100, output: 10, cacheRead: 0, cacheWrite: 0 }, payload: {} });
    await appendAgentEvent(db, { sessionId: "s-a", agent: "claude", event: "Stop", usage: { input: 1_000_000, output: 100_000, cacheRead: 200_000, cacheWrite: 0 }, payload: {} });
    const r = await buildReport(db, { now: NOW, pricing: { claude: { opus: { inputPerMTok: 15, outputPerMTok: 75, cacheReadPerMTok: 1.5 } } } });
    expect(r.sessions.find((s) => s.id === "s-a")).toMatchObject({ tokens: { input: 1_000_000, output: 100_000, cacheRead: 200_000, cacheWrite: 0 }, cost: 15 + 7.5 + 0.3 });
    expect(r.sessions.find((s) => s.id === "s-b")).toMatchObject({ tokens: "unknown", cost: "unknown" });
    expect(r.agents[0]).toMatchObject({ agent: "claude", tokens: 1_300_000, cost: 22.8, unknownSessions: 1 });
    expect(r.agents[1]).toMatchObject({ agent: "codex", tokens: "unknown", cost: "unknown" });
    expect(r.stages[0]!.usage).toEqual({ tokens: 1_300_000, cost: 22.8, unknownSessions: 1 });
    const text = formatReport(r);
    expect(text).toMatch(/claude\s+opus\s+2\s+5\s+2\s+13\.5s\s+0\.0s\s+0\.0s\s+1300000 \(\+1 unknown\)\s+22\.8000/);
    expect(text).toMatch(/codex\s+-\s+1\s+1\s+0\s+5\.0s\s+0\.0s\s+0\.0s\s+unknown\s+unknown/);
  });

  it("bottlenecks: each cause's time lost and the ranking", async () => {
    const r = await report();
    expect(r.bottlenecks.map((b) => [b.key, b.ms, b.count])).toEqual([
      // b waits 13-16 (a reviewer slot at 14 does not end a builder wait), c waits 14-now, docs Blocked 6-9.
      ["capacity", 52_000, 3],
      // Measured from entering Merging to MergeStarted: a 30-32 and 38-40, b 35-37, c 50-now; not from MergeQueued.
      ["merge-queue", 16_000, 4],
      ["approval", 14_000, 2],
      // 2000 + 1500 + 1000 + the gate still running since 55.
      ["gates", 9_500, 4],
      ["conflicts", 5_000, 1],
    ]);
    expect(r.bottlenecks[0]!.detail).toBe("2 task wait(s) for a free slot, 1 stage(s) Blocked by allocation");
    // Every row names who lost (or spent) the time; gate time is work, not a loss.
    const who = Object.fromEntries(r.bottlenecks.map((b) => [b.key, [b.kind, bottleneckSubjects(b)]]));
    expect(who).toMatchObject({ capacity: ["wait", expect.stringMatching(/^stage .*docs.*; task b, c/)], approval: ["wait", expect.stringMatching(/^stage /)], gates: ["work", expect.stringMatching(/^stage .*; task .*; session /)] });
    for (const b of r.bottlenecks) expect(b.stages.length + b.tasks.length).toBeGreaterThan(0);
  });

  it("who: beyond 20 names per kind the text says how many more (JSON keeps them all)", () => {
    const tasks = Array.from({ length: 25 }, (_, i) => `t${String(i).padStart(2, "0")}`);
    expect(bottleneckSubjects({ stages: ["s"], tasks, sessions: [] })).toBe(`stage s; task ${tasks.slice(0, 20).join(", ")} and 5 more`);
  });

  it("gate runs: each run with its task, stage, kind, attempt, result and span; a running one ends now", async () => {
    const r = await report();
    expect(r.gateRuns.map((g) => [g.task, g.stage, g.kind, g.command, g.attempt, g.result, g.exitCode, (g.start - T0_MS) / 1000, (g.end - T0_MS) / 1000])).toEqual([
      ["a", "build", "command", "npm test", 1, "failed", 1, 26, 28],
      ["b", "build", "review", "review", 1, "passed", null, 33, 34],
      ["a", "build", "command", "npm test", 2, "passed", 0, 40.5, 42],
      ["c", "docs", "command", "npm test", 1, "running", null, 55, 60],
    ]);
    expect((await report("docs")).gateRuns.map((g) => g.task)).toEqual(["c"]);
  });

  it("per task: time in each group of phases", async () => {
    const r = await report();
    expect(r.taskPhases.find((t) => t.task === "a")).toEqual({ task: "a", stage: "build", phase: "Merged", ms: { waiting: 12_000, working: 14_000, gating: 4_000, merging: 10_000, conflict: 5_000 }, totalMs: 45_000 });
    expect(formatReport(r)).toMatch(/== tasks, time per phase[^\n]*\nTASK\s+STAGE\s+PHASE\s+WAITING\s+WORKING\s+GATING\s+MERGING\s+CONFLICT\s+TOTAL\n/);
  });

  it("--stage keeps that stage, its tasks and sessions, and their figures only", async () => {
    const r = await report("build");
    expect(r.stage).toBe("build");
    expect(r.lanes.map((l) => `${l.kind}/${l.name}`)).toEqual(["stage/build", "task/a", "task/b", "session/s-a", "session/s-b"]);
    expect(r.stages.map((s) => s.name)).toEqual(["build"]);
    expect(r.sessions.map((s) => s.id)).toEqual(["s-a", "s-b"]);
    expect(r.commandsByState).toEqual({ done: 3, failed: 1, issued: 1 });
    expect(r.agents.map((a) => [a.agent, a.sessions, a.commands])).toEqual([["claude", 2, 5]]);
    expect(r.bottlenecks.map((b) => [b.key, b.ms])).toEqual([["approval", 10_000], ["merge-queue", 6_000], ["conflicts", 5_000], ["gates", 4_500], ["capacity", 3_000]]);
  });
});

describe("interval helpers", () => {
  it("union merges overlapping and touching stretches", () => {
    const i = (start: number, end: number) => ({ state: "paused", start, end });
    expect(union([i(5, 7), i(1, 3), i(3, 4), i(6, 9), i(10, 10)])).toEqual([i(1, 4), i(5, 9)]);
  });

  it("carvePauses clips pauses to the lifetime and never counts a millisecond twice", () => {
    const out = carvePauses([{ state: "running", start: 0, end: 10 }], [{ state: "paused", start: -5, end: 2 }, { state: "paused", start: 1, end: 3 }, { state: "paused", start: 8, end: 20 }], 0, 10);
    expect(out).toEqual([{ state: "paused", start: 0, end: 3 }, { state: "running", start: 3, end: 8 }, { state: "paused", start: 8, end: 10 }]);
  });
});
