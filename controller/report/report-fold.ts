/**
 * Pure: the report computed one event at a time (in time order), so a ledger
 * of any size is read as a stream. Memory holds per-stage and per-task phase
 * changes, per-session totals, the open waits and pauses, and the lanes of
 * the at most `MAX_LANES` newest tasks and sessions drawn on the timeline;
 * never the events themselves. Figures are defined in README's "Reports".
 */
import { bottleneckTasks, MAX_LANES, reportHead, reportTail, type ReportPhases } from "./report-assemble.js";
import { gateRunsOf } from "./report-gate-runs.js";
import { intervalsOf, ms } from "./report-intervals.js";
import type { Lane, Report, ReportContext, ReportEvent, ReportSessionRow } from "./report-model.js";
import { PauseTracker, SessionFold } from "./report-session-fold.js";
import { ReportTally, TokenTally } from "./report-tally.js";
import { sessionTokens } from "./report-tokens.js";
import { capacityWait, mergeQueueWait, type PairWait } from "./report-waits.js";

export { MAX_LANES } from "./report-assemble.js";

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
    const drawn = ctx.drawn ?? drawnSessions(this.sessions);
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

  /** Once every event is in: lanes, waits, gate runs and the folded sessions' figures (call once). */
  finishPhases(): ReportPhases {
    const { ctx, now } = this;
    const stageOf = (task: string): string | undefined => this.taskStage.get(task);
    const gates = ctx.gates.filter((g) => this.taskInStage(g.task));
    return {
      now,
      stageLanes: phaseLanes(this.stageChanges, "stage", now).filter((l) => this.inStage(l.name)),
      taskLanes: phaseLanes(this.taskChanges, "task", now).filter((l) => this.taskInStage(l.name)),
      gates,
      gateRuns: gateRunsOf(gates, now, stageOf),
      capacity: this.capacity.finish(now),
      merge: this.merge.finish(now),
      stageOf,
      rollups: this.sessionFold.finish(now),
    };
  }

  /** The whole report, every session of the context in memory (`buildReport` streams them instead). */
  finish(): Report {
    const { ctx, sessions } = this;
    const phases = this.finishPhases();
    const usage = ctx.usage ?? new Map();
    const stageUsage = new Map<string, TokenTally>();
    for (const s of sessions) {
      if (s.stage === null) continue;
      let tally = stageUsage.get(s.stage);
      if (tally === undefined) stageUsage.set(s.stage, (tally = new TokenTally()));
      tally.add(sessionTokens(s, usage, ctx.pricing ?? {}));
    }
    const commands = new Map<string, Map<string, number>>();
    for (const c of ctx.commands) {
      const of = commands.get(c.sessionId) ?? new Map<string, number>();
      commands.set(c.sessionId, of.set(c.state, (of.get(c.state) ?? 0) + (c.count ?? 1)));
    }
    const tally = new ReportTally({ now: this.now, pricing: ctx.pricing ?? {}, hostsOn: false, wanted: bottleneckTasks(phases) });
    const rows = sessions.map((s) => tally.add({ session: s, rollup: phases.rollups.get(s.id)!, usage, commands: commands.get(s.id) ?? new Map() }));
    const head = reportHead(ctx, phases, new Map([...stageUsage].map(([stage, t]) => [stage, t.finish()])));
    return { ...head, sessions: rows, ...reportTail(phases, tally.finish(), null) };
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
