/**
 * Pure: cost, time and utilization figures (seed skill 18) from ledger
 * records. Every number is derived from timestamped events and rows, so a
 * ledger with known timings gives known figures. Definitions are in
 * README's "Reading the report" section; each is restated on its field.
 */
import { findBottlenecks, type Bottleneck } from "./report-bottlenecks.js";
import { taskPhaseTimes, type TaskPhaseTimes } from "./report-task-phases.js";
import { carvePauses, intervalsOf, ms, pauseIntervals, total, type Interval } from "./report-intervals.js";
import { sessionTokens, sumTokens, type PricingTable, type SessionTokens, type TokenTotals } from "./report-tokens.js";
import type { TokenUsage } from "../core/token-usage.js";
import { gateRunsOf, type GateRun, type ReportGateRow } from "./report-gate-runs.js";

export type { Bottleneck } from "./report-bottlenecks.js";
export type { Interval } from "./report-intervals.js";
export type { GateRun, ReportGateRow } from "./report-gate-runs.js";
export { intervalsOf } from "./report-intervals.js";

export interface ReportEvent {
  readonly at: string;
  readonly action: string;
  readonly subject: string;
  readonly payload: Readonly<Record<string, unknown>>;
}

export interface ReportSessionRow {
  readonly id: string;
  readonly task: string | null;
  readonly stage: string | null;
  readonly role: string | null;
  readonly agent: string;
  readonly model: string | null;
  readonly createdAt: string;
  readonly closedAt: string | null;
  readonly restarts: number;
}

export interface ReportInput {
  readonly now: string;
  /** In ledger id order; the model orders them by `at` (stable, so ties keep id order). */
  readonly events: readonly ReportEvent[];
  readonly sessions: readonly ReportSessionRow[];
  readonly commands: readonly { readonly sessionId: string; readonly state: string }[];
  readonly gates: readonly ReportGateRow[];
  readonly tasks: readonly { readonly name: string; readonly stage: string }[];
  /** Only this stage (and its tasks and sessions). */
  readonly stage?: string;
  /** Project name, for titles. */
  readonly project?: string;
  /** Token usage the agents reported, by session id (absent: unknown). */
  readonly usage?: ReadonlyMap<string, TokenUsage>;
  /** Prices by agent and model (AgentPool `pricing`). */
  readonly pricing?: PricingTable;
}

export interface Lane {
  readonly kind: "stage" | "task" | "session";
  readonly name: string;
  readonly intervals: readonly Interval[];
  /** The state it is in now (its last change; `closed` for a closed session). */
  readonly current: string;
}

export interface SessionUsage {
  readonly id: string;
  readonly task: string | null;
  readonly role: string | null;
  readonly agent: string;
  readonly model: string | null;
  /** createdAt to closedAt (or now). */
  readonly lifetimeMs: number;
  /** Screen status `running`, outside pauses. */
  readonly busyMs: number;
  /** Screen status `idle`, outside pauses. */
  readonly idleMs: number;
  /** Screen status `waiting` (the agent asks a question), outside pauses. */
  readonly waitingMs: number;
  /** Its task, stage or the project paused by a person (union, never counted twice). */
  readonly pausedMs: number;
  /** Start-up: creation until the first screen status. */
  readonly startingMs: number;
  /** Screen status `error` (an API error, a rate limit, a crash message), outside pauses: never busy. */
  readonly errorMs: number;
  /** Screen status `unknown` after start-up: a screen no rule of the profile recognises (stuck), outside pauses: never busy. */
  readonly stuckMs: number;
  /** Any other status (none today): the rest of the lifetime, so the buckets add up to it. */
  readonly otherMs: number;
  /** busy / lifetime, 0..1 (error and stuck time is not busy). */
  readonly utilization: number;
  /** What the agent reported it used (`unknown` when it reported nothing), and its cost at the AgentPool's price. */
  readonly tokens: TokenUsage | "unknown";
  readonly cost: number | "unknown";
}

export interface StageFigures {
  readonly name: string;
  readonly phase: string;
  /** First phase other than Pending until Passed/Failed (or now). */
  readonly elapsedMs: number;
  /** Time in AwaitingApproval. */
  readonly approvalWaitMs: number;
  /** Its sessions' tokens and cost. */
  readonly usage: TokenTotals;
}

export interface AgentUsage {
  readonly agent: string;
  readonly model: string | null;
  readonly sessions: number;
  readonly commands: number;
  readonly restarts: number;
  readonly busyMs: number;
  /** Its sessions' time on error screens and on screens no rule recognises (never busy). */
  readonly errorMs: number;
  readonly stuckMs: number;
  /** Summed over its sessions that reported usage (`unknown` when none did, never 0). */
  readonly tokens: number | "unknown";
  readonly cost: number | "unknown";
  /** Sessions whose tokens are unknown (left out of the sums). */
  readonly unknownSessions: number;
}

export interface Report {
  readonly project: string | null;
  readonly stage: string | null;
  readonly generatedAt: string;
  readonly stages: readonly StageFigures[];
  readonly sessions: readonly SessionUsage[];
  readonly commandsByState: Readonly<Record<string, number>>;
  readonly agents: readonly AgentUsage[];
  /** Time lost, largest first. */
  readonly bottlenecks: readonly Bottleneck[];
  /** Per task: time in each group of phases (waiting, working, gating, merging, conflict). */
  readonly taskPhases: readonly TaskPhaseTimes[];
  readonly lanes: readonly Lane[];
  /** Every gate run (commands and reviews, each attempt) with its result, in start order: drawn under its task's lane. */
  readonly gateRuns: readonly GateRun[];
  /** Epoch ms of the first and last interval edge (the timeline's span). */
  readonly start: number;
  readonly end: number;
}

const FINAL_PHASES = new Set(["Passed", "Failed", "Merged"]);

function phaseLanes(events: readonly ReportEvent[], action: string, prefix: "stage" | "task", end: number): Lane[] {
  const byName = new Map<string, { at: number; state: string }[]>();
  for (const e of events) {
    if (e.action !== action || !e.subject.startsWith(`${prefix}/`)) continue;
    const name = e.subject.slice(prefix.length + 1);
    byName.set(name, [...(byName.get(name) ?? []), { at: ms(e.at), state: String(e.payload.to) }]);
  }
  return [...byName].map(([name, changes]) => {
    const last = changes.at(-1)!;
    const stop = FINAL_PHASES.has(last.state) ? last.at : end;
    return { kind: prefix, name, intervals: intervalsOf(changes, stop), current: last.state };
  });
}

/** A session's screen status over its life (`starting` until the first status), pauses carved out. */
function sessionLane(s: ReportSessionRow, events: readonly ReportEvent[], pauses: readonly Interval[], end: number): Lane {
  const subject = `session/${s.id}`;
  const start = ms(s.createdAt);
  const stop = s.closedAt === null ? end : ms(s.closedAt);
  const changes = [{ at: start, state: "starting" }];
  // A status observed late on an unchanged screen holds from `since` (never before the previous change).
  for (const e of events) if (e.subject === subject && e.action === "SessionStatusChanged") changes.push({ at: Math.max(ms(typeof e.payload.since === "string" ? e.payload.since : e.at), changes.at(-1)!.at), state: String(e.payload.to) });
  const kept = changes.filter((c) => c.at <= stop);
  const intervals = carvePauses(intervalsOf(kept, stop), pauses, start, stop);
  return { kind: "session", name: s.id, intervals, current: s.closedAt === null ? kept.at(-1)!.state : "closed" };
}

function sessionUsage(s: ReportSessionRow, lane: Lane, end: number, tokens: SessionTokens): SessionUsage {
  const lifetimeMs = Math.max(0, (s.closedAt === null ? end : ms(s.closedAt)) - ms(s.createdAt));
  const busyMs = total(lane.intervals, "running");
  const idleMs = total(lane.intervals, "idle");
  const waitingMs = total(lane.intervals, "waiting");
  const pausedMs = total(lane.intervals, "paused");
  const startingMs = total(lane.intervals, "starting");
  const errorMs = total(lane.intervals, "error");
  const stuckMs = total(lane.intervals, "unknown");
  const otherMs = Math.max(0, lifetimeMs - busyMs - idleMs - waitingMs - pausedMs - startingMs - errorMs - stuckMs);
  const figures = { lifetimeMs, busyMs, idleMs, waitingMs, pausedMs, startingMs, errorMs, stuckMs, otherMs };
  return { id: s.id, task: s.task, role: s.role, agent: s.agent, model: s.model, ...figures, utilization: lifetimeMs === 0 ? 0 : busyMs / lifetimeMs, ...tokens };
}

export function buildReportModel(raw: ReportInput): Report {
  const input = { ...raw, events: [...raw.events].sort((a, b) => ms(a.at) - ms(b.at)) };
  const now = ms(input.now);
  const inStage = (stage: string | null | undefined): boolean => input.stage === undefined || stage === input.stage;
  const taskStage = new Map(input.tasks.map((t) => [t.name, t.stage]));
  const taskInStage = (task: string): boolean => inStage(taskStage.get(task));
  const sessions = input.sessions.filter((s) => inStage(s.stage));
  const stageLanes = phaseLanes(input.events, "StagePhaseChanged", "stage", now).filter((l) => inStage(l.name));
  const taskLanes = phaseLanes(input.events, "TaskPhaseChanged", "task", now).filter((l) => taskInStage(l.name));
  const pauses = pauseIntervals(input.events, now);
  const pausesOf = (s: ReportSessionRow): Interval[] => [...(pauses.get("project") ?? []), ...(pauses.get(`stage/${s.stage}`) ?? []), ...(pauses.get(`task/${s.task}`) ?? [])];
  const sessionLanes = sessions.map((s) => sessionLane(s, input.events, pausesOf(s), now));
  const usage = sessions.map((s, i) => sessionUsage(s, sessionLanes[i]!, now, sessionTokens(s, input.usage ?? new Map(), input.pricing ?? {})));
  const ids = new Set(sessions.map((s) => s.id));
  const commandsByState: Record<string, number> = {};
  for (const c of input.commands) if (ids.has(c.sessionId)) commandsByState[c.state] = (commandsByState[c.state] ?? 0) + 1;
  const lanes = [...stageLanes, ...taskLanes, ...sessionLanes];
  const stageOf = (task: string): string | undefined => taskStage.get(task);
  const gateRuns = gateRunsOf(input.gates.filter((g) => taskInStage(g.task)), now, stageOf);
  const edges = [...lanes.flatMap((l) => l.intervals.flatMap((i) => [i.start, i.end])), ...gateRuns.flatMap((g) => [g.start, g.end])];
  return {
    project: input.project ?? null,
    stage: input.stage ?? null,
    generatedAt: input.now,
    stages: stageLanes.map((l) => ({ name: l.name, phase: l.current, elapsedMs: elapsed(l), approvalWaitMs: total(l.intervals, "AwaitingApproval"), usage: sumTokens(usage.filter((_, i) => sessions[i]!.stage === l.name)) })),
    sessions: usage,
    commandsByState,
    agents: agentUsage(sessions, usage, input.commands),
    taskPhases: taskPhaseTimes(taskLanes, stageOf),
    bottlenecks: findBottlenecks({
      events: input.events, gates: input.gates.filter((g) => taskInStage(g.task)), stageLanes, taskLanes, taskInStage, now,
      stageOf,
      sessionsOf: (task) => sessions.filter((s) => s.task === task).map((s) => s.id),
    }),
    lanes,
    gateRuns,
    start: edges.length === 0 ? now : Math.min(...edges),
    end: edges.length === 0 ? now : Math.max(...edges),
  };
}

function elapsed(lane: Lane): number {
  const work = lane.intervals.filter((i) => i.state !== "Pending");
  return work.length === 0 ? 0 : work.at(-1)!.end - work[0]!.start;
}

const sum = (usage: readonly SessionUsage[], ids: ReadonlySet<string>, key: "busyMs" | "errorMs" | "stuckMs"): number => usage.filter((u) => ids.has(u.id)).reduce((n, u) => n + u[key], 0);

function agentUsage(sessions: readonly ReportSessionRow[], usage: readonly SessionUsage[], commands: ReportInput["commands"]): AgentUsage[] {
  const keys = [...new Set(sessions.map((s) => `${s.agent}\0${s.model ?? ""}`))];
  return keys.map((key) => {
    const [agent, model] = key.split("\0") as [string, string];
    const ids = new Set(sessions.filter((s) => s.agent === agent && (s.model ?? "") === model).map((s) => s.id));
    return {
      agent,
      model: model === "" ? null : model,
      sessions: ids.size,
      commands: commands.filter((c) => ids.has(c.sessionId)).length,
      restarts: sessions.filter((s) => ids.has(s.id)).reduce((n, s) => n + s.restarts, 0),
      busyMs: sum(usage, ids, "busyMs"),
      errorMs: sum(usage, ids, "errorMs"),
      stuckMs: sum(usage, ids, "stuckMs"),
      ...sumTokens(usage.filter((u) => ids.has(u.id))),
    };
  });
}
