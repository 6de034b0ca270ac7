/**
 * Pure: cost, time and utilization figures (seed skill 18) from ledger
 * records. Every number is derived from timestamped events, so a ledger with
 * known timings gives known figures.
 */

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
  readonly events: readonly ReportEvent[];
  readonly sessions: readonly ReportSessionRow[];
  readonly commands: readonly { readonly sessionId: string; readonly state: string }[];
  readonly gates: readonly { readonly task: string; readonly durationMs: number | null }[];
  readonly tasks: readonly { readonly name: string; readonly stage: string }[];
  /** Only this stage (and its tasks and sessions). */
  readonly stage?: string;
}

/** One stretch of time in one state. */
export interface Interval {
  readonly state: string;
  readonly start: number;
  readonly end: number;
}

export interface Lane {
  readonly kind: "stage" | "task" | "session";
  readonly name: string;
  readonly intervals: readonly Interval[];
  /** The state it is in now (its last change). */
  readonly current: string;
}

export interface SessionUsage {
  readonly id: string;
  readonly task: string | null;
  readonly agent: string;
  readonly model: string | null;
  readonly lifetimeMs: number;
  readonly busyMs: number;
  readonly idleMs: number;
  readonly waitingMs: number;
  readonly pausedMs: number;
  readonly otherMs: number;
  /** busy / lifetime, 0..1. */
  readonly utilization: number;
}

export interface Report {
  readonly generatedAt: string;
  readonly stages: readonly { readonly name: string; readonly phase: string; readonly elapsedMs: number; readonly approvalWaitMs: number }[];
  readonly sessions: readonly SessionUsage[];
  readonly commandsByState: Readonly<Record<string, number>>;
  readonly agents: readonly { readonly agent: string; readonly model: string | null; readonly sessions: number; readonly commands: number; readonly restarts: number; readonly busyMs: number; readonly tokens: "unknown"; readonly cost: "unknown" }[];
  /** Time lost, largest first. */
  readonly bottlenecks: readonly { readonly cause: string; readonly ms: number; readonly detail: string }[];
  readonly lanes: readonly Lane[];
  readonly start: number;
  readonly end: number;
}

const ms = (iso: string): number => Date.parse(iso);

/** Turns "changed to X at t" events into intervals ending at the next change (or `end`). */
export function intervalsOf(changes: readonly { readonly at: number; readonly state: string }[], end: number): Interval[] {
  const sorted = [...changes].sort((a, b) => a.at - b.at);
  return sorted.map((c, i) => ({ state: c.state, start: c.at, end: Math.max(c.at, sorted[i + 1]?.at ?? end) })).filter((i) => i.end > i.start);
}

function total(intervals: readonly Interval[], state: string): number {
  return intervals.filter((i) => i.state === state).reduce((n, i) => n + (i.end - i.start), 0);
}

function overlap(a: readonly Interval[], start: number, end: number): number {
  return a.reduce((n, i) => n + Math.max(0, Math.min(i.end, end) - Math.max(i.start, start)), 0);
}

function phaseLanes(events: readonly ReportEvent[], action: string, prefix: "stage" | "task", end: number): Lane[] {
  const byName = new Map<string, { at: number; state: string }[]>();
  for (const e of events) {
    if (e.action !== action || !e.subject.startsWith(`${prefix}/`)) continue;
    const name = e.subject.slice(prefix.length + 1);
    byName.set(name, [...(byName.get(name) ?? []), { at: ms(e.at), state: String(e.payload.to) }]);
  }
  return [...byName].map(([name, changes]) => {
    const final = changes.at(-1)?.state;
    const stop = final === "Passed" || final === "Failed" || final === "Merged" ? changes.at(-1)!.at : end;
    return { kind: prefix, name, intervals: intervalsOf(changes, stop), current: final ?? "Pending" };
  });
}

function pauseIntervals(events: readonly ReportEvent[], end: number): Map<string, Interval[]> {
  const out = new Map<string, Interval[]>();
  const open = new Map<string, number>();
  for (const e of events) {
    if (e.action === "Paused") open.set(e.subject, ms(e.at));
    if (e.action === "Resumed" && open.has(e.subject)) {
      out.set(e.subject, [...(out.get(e.subject) ?? []), { state: "paused", start: open.get(e.subject)!, end: ms(e.at) }]);
      open.delete(e.subject);
    }
  }
  for (const [subject, start] of open) out.set(subject, [...(out.get(subject) ?? []), { state: "paused", start, end }]);
  return out;
}

function sessionLane(s: ReportSessionRow, events: readonly ReportEvent[], end: number): Lane {
  const subject = `session/${s.id}`;
  const changes = [{ at: ms(s.createdAt), state: "idle" }];
  for (const e of events) if (e.subject === subject && e.action === "SessionStatusChanged") changes.push({ at: ms(e.at), state: String(e.payload.to) });
  const stop = s.closedAt === null ? end : ms(s.closedAt);
  const kept = changes.filter((c) => c.at <= stop);
  return { kind: "session", name: s.id, intervals: intervalsOf(kept, stop), current: s.closedAt === null ? kept.at(-1)!.state : "closed" };
}

export function buildReportModel(input: ReportInput): Report {
  const now = ms(input.now);
  const inStage = (stage: string | null | undefined): boolean => input.stage === undefined || stage === input.stage;
  const events = input.events;
  const taskStage = new Map(input.tasks.map((t) => [t.name, t.stage]));
  const sessions = input.sessions.filter((s) => inStage(s.stage));
  const stageLanes = phaseLanes(events, "StagePhaseChanged", "stage", now).filter((l) => inStage(l.name));
  const taskLanes = phaseLanes(events, "TaskPhaseChanged", "task", now).filter((l) => inStage(taskStage.get(l.name)));
  const sessionLanes = sessions.map((s) => sessionLane(s, events, now));
  const pauses = pauseIntervals(events, now);
  const usage = sessions.map((s, i): SessionUsage => {
    const lane = sessionLanes[i]!;
    const start = ms(s.createdAt);
    const stop = s.closedAt === null ? now : ms(s.closedAt);
    const lifetimeMs = Math.max(0, stop - start);
    const paused = [...(pauses.get("project") ?? []), ...(pauses.get(`task/${s.task}`) ?? []), ...(pauses.get(`stage/${s.stage}`) ?? [])];
    const busyMs = total(lane.intervals, "running");
    const idleMs = total(lane.intervals, "idle");
    const waitingMs = total(lane.intervals, "waiting");
    return { id: s.id, task: s.task, agent: s.agent, model: s.model, lifetimeMs, busyMs, idleMs, waitingMs, pausedMs: overlap(paused, start, stop), otherMs: Math.max(0, lifetimeMs - busyMs - idleMs - waitingMs), utilization: lifetimeMs === 0 ? 0 : busyMs / lifetimeMs };
  });
  const ids = new Set(sessions.map((s) => s.id));
  const commandsByState: Record<string, number> = {};
  for (const c of input.commands) if (ids.has(c.sessionId)) commandsByState[c.state] = (commandsByState[c.state] ?? 0) + 1;
  const all = [...stageLanes, ...taskLanes, ...sessionLanes].flatMap((l) => l.intervals);
  return {
    generatedAt: input.now,
    stages: stageLanes.map((l) => ({ name: l.name, phase: l.current, elapsedMs: elapsed(l), approvalWaitMs: total(l.intervals, "AwaitingApproval") })),
    sessions: usage,
    commandsByState,
    agents: agentUsage(sessions, usage, input.commands),
    bottlenecks: bottlenecks(input, stageLanes, taskLanes, now),
    lanes: [...stageLanes, ...taskLanes, ...sessionLanes],
    start: all.length === 0 ? now : Math.min(...all.map((i) => i.start)),
    end: all.length === 0 ? now : Math.max(...all.map((i) => i.end)),
  };
}

function elapsed(lane: Lane): number {
  const work = lane.intervals.filter((i) => i.state !== "Pending");
  return work.length === 0 ? 0 : work.at(-1)!.end - work[0]!.start;
}

function agentUsage(sessions: readonly ReportSessionRow[], usage: readonly SessionUsage[], commands: ReportInput["commands"]): Report["agents"] {
  const keys = [...new Set(sessions.map((s) => `${s.agent}\0${s.model ?? ""}`))];
  return keys.map((key) => {
    const [agent, model] = key.split("\0") as [string, string];
    const mine = sessions.filter((s) => s.agent === agent && (s.model ?? "") === model);
    const ids = new Set(mine.map((s) => s.id));
    return { agent, model: model === "" ? null : model, sessions: mine.length, commands: commands.filter((c) => ids.has(c.sessionId)).length, restarts: mine.reduce((n, s) => n + s.restarts, 0), busyMs: usage.filter((u) => ids.has(u.id)).reduce((n, u) => n + u.busyMs, 0), tokens: "unknown" as const, cost: "unknown" as const };
  });
}

function bottlenecks(input: ReportInput, stages: readonly Lane[], tasks: readonly Lane[], now: number): Report["bottlenecks"] {
  const events = input.events;
  const waitUntil = (fromAction: string, toActions: readonly string[]): number => {
    let sum = 0;
    for (const [i, e] of events.entries()) {
      if (e.action !== fromAction) continue;
      const next = events.slice(i + 1).find((n) => n.subject === e.subject && toActions.includes(n.action));
      sum += (next === undefined ? now : ms(next.at)) - ms(e.at);
    }
    return sum;
  };
  const mergeWait = events.filter((e) => e.action === "MergeQueued").reduce((sum, q) => {
    const started = events.find((e) => e.action === "MergeStarted" && e.payload.merge === q.payload.merge);
    return sum + ((started === undefined ? now : ms(started.at)) - ms(q.at));
  }, 0);
  const rows = [
    { cause: "approval wait", ms: stages.reduce((n, l) => n + total(l.intervals, "AwaitingApproval"), 0), detail: "stages waiting for a committed approval" },
    { cause: "capacity wait", ms: waitUntil("CapacityWait", ["SessionCreated", "CapacityReserved"]) + stages.reduce((n, l) => n + total(l.intervals, "Blocked"), 0), detail: "tasks waiting for a free slot, stages blocked by allocation" },
    { cause: "gate time", ms: input.gates.reduce((n, g) => n + (g.durationMs ?? 0), 0), detail: "gate commands running" },
    { cause: "merge-queue wait", ms: mergeWait, detail: "branches queued behind other merges" },
    { cause: "conflicts", ms: tasks.reduce((n, l) => n + total(l.intervals, "Conflict") + total(l.intervals, "Resolving"), 0), detail: "tasks in Conflict or Resolving" },
  ];
  return rows.sort((a, b) => b.ms - a.ms);
}
