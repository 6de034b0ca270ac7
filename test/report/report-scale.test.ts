import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { MAX_LANES } from "../../controller/report/report-fold.js";
import { buildReportModel, type ReportEvent } from "../../controller/report/report-model.js";
import { buildReport, readReportEvents } from "../../controller/report/report.js";
import { renderReportHtml } from "../../controller/report/report-html.js";
import { openLedger } from "../../state/ledger.js";
import { growLedger } from "../bench/ledger-scale.js";
import { tempDir } from "../helpers/temp.js";
import { knownLedger, NOW } from "./report-fixture.js";

describe("the report reads a ledger of any size as a stream", () => {
  it("pages through the events by time (ties in ledger order) and gives the same report as reading them all at once", async () => {
    const db = await knownLedger({ hostile: true });
    onTestFinished(() => db.destroy());
    const all: ReportEvent[] = [];
    for await (const e of readReportEvents(db)) all.push(e);
    // Pages of 3 cross many ties (several events share a second in the fixture).
    const paged: ReportEvent[] = [];
    for await (const e of readReportEvents(db, 3)) paged.push(e);
    expect(paged).toEqual(all);
    expect(all.length).toBeGreaterThan(40);
    const times = all.map((e) => Date.parse(e.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    // The streamed report equals the in-memory model over the same events.
    const streamed = await buildReport(db, { now: NOW, project: "p" });
    const sessions = await db.selectFrom("sessions").select(["id", "task", "stage", "role", "agent", "model", "created_at", "closed_at", "restarts"]).orderBy("created_at").execute();
    const inMemory = buildReportModel({
      now: NOW, project: "p", events: all, tasks: await db.selectFrom("tasks").select(["name", "stage"]).execute(),
      sessions: sessions.map((s) => ({ id: s.id, task: s.task, stage: s.stage, role: s.role, agent: s.agent, model: s.model, createdAt: s.created_at, closedAt: s.closed_at, restarts: s.restarts })),
      commands: (await db.selectFrom("commands").select(["session_id", "state"]).execute()).map((c) => ({ sessionId: c.session_id, state: c.state })),
      gates: (await db.selectFrom("gates").select(["task", "kind", "command", "attempt", "state", "exit_code", "started_at", "duration_ms"]).orderBy("id").execute()).map((g) => ({ task: g.task, kind: g.kind, command: g.command, attempt: g.attempt, state: g.state, exitCode: g.exit_code, startedAt: g.started_at, durationMs: g.duration_ms })),
      usage: new Map(),
    });
    expect(streamed).toEqual(inMemory);
  });

  it("100k events: every session's figures, the timeline capped at the newest lanes, and no call stack or memory blow-up", async () => {
    const file = join(tempDir("gaffer-report-scale-"), "ledger.sqlite");
    await (await openLedger(file)).destroy();
    const sessions = growLedger(file, 100_000, { spanDays: 10 });
    const db = await openLedger(file);
    onTestFinished(() => db.destroy());
    const heapBefore = process.memoryUsage().heapUsed;
    const started = Date.now();
    const report = await buildReport(db);
    const tookMs = Date.now() - started;
    console.log(`report over 100k events, ${sessions} sessions: ${tookMs} ms, heap +${Math.round((process.memoryUsage().heapUsed - heapBefore) / 2 ** 20)} MB`);
    expect(report.sessions.length).toBe(sessions);
    // growLedger's session: 7 events 2 s apart before its first status, then 30 status changes alternating running/idle
    // every 2 s (15 running, 15 idle), the last one lasting until the close 13 events (26 s) later.
    expect(report.sessions[0]).toMatchObject({ lifetimeMs: 98_000, startingMs: 14_000, busyMs: 54_000, idleMs: 30_000, errorMs: 0, stuckMs: 0, otherMs: 0 });
    for (const s of report.sessions) expect(s.startingMs + s.busyMs + s.idleMs + s.waitingMs + s.pausedMs + s.errorMs + s.stuckMs + s.otherMs).toBe(s.lifetimeMs);
    const drawn = report.lanes.filter((l) => l.kind === "session");
    expect(drawn.length).toBe(MAX_LANES);
    expect(drawn.map((l) => l.name)).toEqual(report.sessions.slice(-MAX_LANES).map((s) => s.id));
    expect(report.omittedLanes.session).toBe(sessions - MAX_LANES);
    expect(report.lanes.filter((l) => l.kind === "task").length + report.omittedLanes.task).toBe(report.taskPhases.length);
    expect(report.agents[0]!.busyMs).toBe(report.sessions.reduce((n, s) => n + s.busyMs, 0));
    // The page keeps the newest rows of the big tables and says so.
    const html = renderReportHtml(report);
    const rows = (id: string): number => (html.split(`<table id="${id}">`)[1]!.split("</table>")[0]!.match(/<tr>/g) ?? []).length - 1;
    expect([rows("sessions"), rows("task-phases")]).toEqual([MAX_LANES, MAX_LANES]);
    expect(html).toContain(`The ${MAX_LANES} newest of ${sessions} sessions;`);
    expect(html).toContain(`Not drawn: the ${report.omittedLanes.task} oldest task(s) and ${sessions - MAX_LANES} oldest session(s)`);
    // A generous bound (2 shared cores under load); the tight figure belongs in the bench.
    expect(tookMs).toBeLessThan(30_000);
  }, 60_000);
});
