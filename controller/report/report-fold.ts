/**
 * Pure: the report computed one event at a time (in time order), so a ledger
 * of any size is read as a stream. Memory holds per-stage and per-task phase
 * changes, per-session totals, the open waits and pauses, and the lanes of
 * the at most `MAX_LANES` newest tasks and sessions drawn on the timeline;
 * never the events themselves. Figures are defined in README's "Reports".
 */
import { findBottlenecks } from "./report-bottlenecks.js";
import { gateRunsOf } from "./report-gate-runs.js";
import { intervalsOf, ms, total } from "./report-intervals.js";
import type { AgentUsage, Lane, Report, ReportContext, ReportEvent, ReportSessionRow, SessionUsage } from "./report-model.js";
import { PauseTracker, SessionFold, type SessionRollup } from "./report-session-fold.js";
import { taskPhaseTimes } from "./report-task-phases.js";
import { sessionTokens, sumTokens } from "./report-tokens.js";
import { capacityWait, mergeQueueWait, type PairWait } from "./report-waits.js";

/** The timeline draws at most this many task lanes and session lanes (the newest). */
export const MAX_LANES = 300;

/** The events the report reads (`buildReport` asks the ledger for these only). */
export const REPORT_ACTIONS: readonly string[] = ["StagePhaseChanged", "TaskPhaseChanged", "SessionStatusChanged", "Paused", "Resumed", "MergeStarted", "CapacityWait", "CapacityReserved"];

const FINAL_PHASES = new Set(["Passed", "Failed", "Merged"]);

type Changes = Map<string, { at: number; state: string }[]>;

export class ReportFold {
  private readonly now: number;
  private readonly taskStage: Map<string, string>;
  private readonly sessions: readonly ReportSessionRow[];
  private readonly stageChanges: Changes = new Map();
  private readonly taskChanges: Changes = new Map();
  private readonly pauses = new PauseTracker();
  private readonly sessionFold: SessionFold;
  private readonly merge: PairWait;
  private readonly capacity: PairWait;

  constructor(private readonly ctx: ReportContext) {
    this.now = ms(ctx.now);
    this.taskStage = new Map(ctx.tasks.map((t) => [t.name, t.stage]));
    this.sessions = reportSessions(ctx);
    const drawn = drawnSessions(this.sessions);
    this.sessionFold = new SessionFold(this.sessions, this.pauses, { now: this.now, drawn, ...(ctx.seeds === undefined ? {} : { seeds: ctx.seeds }) });
    this.merge = mergeQueueWait((task) => this.taskInStage(task));
    this.capacity = capacityWait((task) => this.taskInStage(task));
  }

  /** Takes the next event; events must come in time order (ties in ledger order). */
  add(e: ReportEvent): void {
    this.pauses.add(e);
    this.sessionFold.add(e);
    this.merge.add(e);
    this.capacity.add(e);
    if (e.action === "StagePhaseChanged" && e.subject.startsWith("stage/")) this.change(this.stageChanges, e.subject.slice(6), e);
    if (e.action === "TaskPhaseChanged" && e.subject.startsWith("task/")) this.change(this.taskChanges, e.subject.slice(5), e);
  }

  finish(): Report {
    const { ctx, now, sessions } = this;
    const stageLanes = phaseLanes(this.stageChanges, "stage", now).filter((l) => this.inStage(l.name));
    const taskLanes = phaseLanes(this.taskChanges, "task", now).filter((l) => this.taskInStage(l.name));
    const rollups = this.sessionFold.finish(now);
    const usage = sessions.map((s) => sessionUsage(s, rollups.get(s.id)!, now, sessionTokens(s, ctx.usage ?? new Map(), ctx.pricing ?? {})));
    const stageOf = (task: string): string | undefined => this.taskStage.get(task);
    const gates = ctx.gates.filter((g) => this.taskInStage(g.task));
    const gateRuns = gateRunsOf(gates, now, stageOf);
    const sessionsOfTask = groupBy(sessions, (s) => s.task ?? "");
    const sessionLanes = sessions.flatMap((s): Lane[] => {
      const r = rollups.get(s.id)!;
      return r.intervals === null ? [] : [{ kind: "session", name: s.id, intervals: r.intervals, current: r.current }];
    });
    const drawnTasks = taskLanes.slice(-MAX_LANES);
    const span = spanOf([...stageLanes, ...taskLanes], sessions, gateRuns, now);
    return {
      project: ctx.project ?? null,
      stage: ctx.stage ?? null,
      generatedAt: ctx.now,
      stages: stageLanes.map((l) => ({ name: l.name, phase: l.current, elapsedMs: elapsed(l), approvalWaitMs: total(l.intervals, "AwaitingApproval"), usage: sumTokens(usage.filter((_, i) => sessions[i]!.stage === l.name)) })),
      sessions: usage,
      commandsByState: this.commandsByState(),
      agents: agentUsage(sessions, usage, ctx.commands),
      taskPhases: taskPhaseTimes(taskLanes, stageOf),
      bottlenecks: findBottlenecks({
        capacity: this.capacity.finish(now), merge: this.merge.finish(now), gates, stageLanes, taskLanes, now, stageOf,
        sessionsOf: (task) => (sessionsOfTask.get(task) ?? []).map((s) => s.id),
      }),
      lanes: [...stageLanes, ...drawnTasks, ...sessionLanes],
      gateRuns,
      omittedLanes: { task: taskLanes.length - drawnTasks.length, session: sessions.length - sessionLanes.length },
      ...span,
    };
  }

  private inStage(stage: string | null | undefined): boolean {
    return this.ctx.stage === undefined || stage === this.ctx.stage;
  }

  private taskInStage(task: string): boolean {
    return this.inStage(this.taskStage.get(task));
  }

  private change(changes: Changes, name: string, e: ReportEvent): void {
    let list = changes.get(name);
    if (list === undefined) changes.set(name, (list = []));
    list.push({ at: ms(e.at), state: String(e.payload.to) });
  }

  private commandsByState(): Record<string, number> {
    const ids = new Set(this.sessions.map((s) => s.id));
    const out: Record<string, number> = {};
    for (const c of this.ctx.commands) if (ids.has(c.sessionId)) out[c.state] = (out[c.state] ?? 0) + (c.count ?? 1);
    return out;
  }
}

/** The sessions a report covers: all, or its stage's. */
export function reportSessions(ctx: Pick<ReportContext, "sessions" | "stage">): ReportSessionRow[] {
  return ctx.sessions.filter((s) => ctx.stage === undefined || s.stage === ctx.stage);
}

/** The sessions drawn on the timeline: the newest `MAX_LANES`. */
export function drawnSessions(sessions: readonly ReportSessionRow[]): Set<string> {
  return new Set(sessions.slice(-MAX_LANES).map((s) => s.id));
}

function phaseLanes(byName: Changes, kind: "stage" | "task", end: number): Lane[] {
  return [...byName].map(([name, changes]) => {
    const last = changes.at(-1)!;
    const stop = FINAL_PHASES.has(last.state) ? last.at : end;
    return { kind, name, intervals: intervalsOf(changes, stop), current: last.state };
  });
}

/** The first and last edge of every stretch (lanes drawn or not, sessions' lifetimes, gate runs); `now` when there is none. */
function spanOf(lanes: readonly Lane[], sessions: readonly ReportSessionRow[], gateRuns: Report["gateRuns"], now: number): { start: number; end: number } {
  let start = Infinity;
  let end = -Infinity;
  const see = (from: number, to: number): void => {
    if (from < start) start = from;
    if (to > end) end = to;
  };
  for (const l of lanes) for (const i of l.intervals) see(i.start, i.end);
  for (const s of sessions) {
    const [from, to] = [ms(s.createdAt), s.closedAt === null ? now : ms(s.closedAt)];
    if (to > from) see(from, to);
  }
  for (const g of gateRuns) see(g.start, g.end);
  return start === Infinity ? { start: now, end: now } : { start, end };
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list === undefined) out.set(k, [item]);
    else list.push(item);
  }
  return out;
}

function sessionUsage(s: ReportSessionRow, rollup: SessionRollup, end: number, tokens: ReturnType<typeof sessionTokens>): SessionUsage {
  const lifetimeMs = Math.max(0, (s.closedAt === null ? end : ms(s.closedAt)) - ms(s.createdAt));
  const t = (state: string): number => rollup.totals[state] ?? 0;
  const [busyMs, idleMs, waitingMs, pausedMs, startingMs, errorMs, stuckMs] = ["running", "idle", "waiting", "paused", "starting", "error", "unknown"].map(t) as [number, number, number, number, number, number, number];
  const otherMs = Math.max(0, lifetimeMs - busyMs - idleMs - waitingMs - pausedMs - startingMs - errorMs - stuckMs);
  const figures = { lifetimeMs, busyMs, idleMs, waitingMs, pausedMs, startingMs, errorMs, stuckMs, otherMs };
  return { id: s.id, task: s.task, role: s.role, agent: s.agent, model: s.model, ...figures, utilization: lifetimeMs === 0 ? 0 : busyMs / lifetimeMs, ...tokens };
}

function elapsed(lane: Lane): number {
  const work = lane.intervals.filter((i) => i.state !== "Pending");
  return work.length === 0 ? 0 : work.at(-1)!.end - work[0]!.start;
}

function agentUsage(sessions: readonly ReportSessionRow[], usage: readonly SessionUsage[], commands: ReportContext["commands"]): AgentUsage[] {
  const byAgent = groupBy(usage.map((u, i) => ({ u, s: sessions[i]! })), ({ s }) => `${s.agent}\0${s.model ?? ""}`);
  const commandsOf = new Map<string, number>();
  for (const c of commands) commandsOf.set(c.sessionId, (commandsOf.get(c.sessionId) ?? 0) + (c.count ?? 1));
  return [...byAgent].map(([key, rows]) => {
    const [agent, model] = key.split("\0") as [string, string];
    const add = (get: (row: { u: SessionUsage; s: ReportSessionRow }) => number): number => rows.reduce((n, row) => n + get(row), 0);
    return {
      agent,
      model: model === "" ? null : model,
      sessions: rows.length,
      commands: add(({ s }) => commandsOf.get(s.id) ?? 0),
      restarts: add(({ s }) => s.restarts),
      busyMs: add(({ u }) => u.busyMs),
      errorMs: add(({ u }) => u.errorMs),
      stuckMs: add(({ u }) => u.stuckMs),
      ...sumTokens(rows.map(({ u }) => u)),
    };
  });
}
