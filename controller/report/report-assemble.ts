/**
 * Pure: the report's parts around its sessions. What the events give (stage
 * and task lanes, waits, gate runs: `ReportPhases`) and what the sessions sum
 * to (report-tally.ts) become the fields before the sessions (`ReportHead`)
 * and after them (`ReportTail`), in the order the report's JSON has them.
 */
import { findBottlenecks } from "./report-bottlenecks.js";
import type { GateRun, ReportGateRow } from "./report-gate-runs.js";
import type { Lane, Report } from "./report-model.js";
import type { SessionRollup } from "./report-session-fold.js";
import type { SessionSums } from "./report-tally.js";
import { taskPhaseTimes } from "./report-task-phases.js";
import { total } from "./report-intervals.js";
import { sumTokens, type TokenTotals } from "./report-tokens.js";
import type { Wait } from "./report-waits.js";

/** The timeline draws at most this many task lanes and session lanes (the newest). */
export const MAX_LANES = 300;

/** What the report folds from the events and the global rows, before it reads the sessions' rows. */
export interface ReportPhases {
  readonly now: number;
  readonly stageLanes: readonly Lane[];
  readonly taskLanes: readonly Lane[];
  /** The gate rows of the report's tasks. */
  readonly gates: readonly ReportGateRow[];
  readonly gateRuns: readonly GateRun[];
  readonly capacity: Wait;
  readonly merge: Wait;
  readonly stageOf: (task: string) => string | undefined;
  /** The folded sessions' figures (those replayed from their events), by id. */
  readonly rollups: ReadonlyMap<string, SessionRollup>;
}

/** The report's fields before its sessions. */
export type ReportHead = Pick<Report, "project" | "stage" | "generatedAt" | "stages">;
/** The report's fields after its sessions. */
export type ReportTail = Omit<Report, keyof ReportHead | "sessions">;

/** Pure: the head; `stageUsage`: the tokens of each stage's sessions. */
export function reportHead(ctx: { readonly project?: string; readonly stage?: string; readonly now: string }, phases: ReportPhases, stageUsage: ReadonlyMap<string, TokenTotals>): ReportHead {
  const stages = phases.stageLanes.map((l) => ({ name: l.name, phase: l.current, elapsedMs: elapsed(l), approvalWaitMs: total(l.intervals, "AwaitingApproval"), usage: stageUsage.get(l.name) ?? sumTokens([]) }));
  return { project: ctx.project ?? null, stage: ctx.stage ?? null, generatedAt: ctx.now, stages };
}

function bottlenecksOf(phases: ReportPhases, sessionsOf: (task: string) => readonly string[]): Report["bottlenecks"] {
  const { capacity, merge, gates, stageLanes, taskLanes, now, stageOf } = phases;
  return findBottlenecks({ capacity, merge, gates, stageLanes, taskLanes, now, stageOf, sessionsOf });
}

/** Pure: the tasks whose sessions the bottlenecks name (the tally keeps only theirs). */
export function bottleneckTasks(phases: ReportPhases): Set<string> {
  const wanted = new Set<string>();
  bottlenecksOf(phases, (task) => {
    wanted.add(task);
    return [];
  });
  return wanted;
}

/** Pure: the tail, from the phases and the sessions' sums. */
export function reportTail(phases: ReportPhases, sums: SessionSums, compactedBefore: string | null): ReportTail {
  const { stageLanes, taskLanes, gateRuns, now } = phases;
  const drawnTasks = taskLanes.slice(-MAX_LANES);
  return {
    commandsByState: sums.commandsByState,
    agents: sums.agents,
    taskPhases: taskPhaseTimes(taskLanes, phases.stageOf),
    bottlenecks: bottlenecksOf(phases, (task) => sums.sessionsOf.get(task) ?? []),
    lanes: [...stageLanes, ...drawnTasks, ...sums.lanes],
    gateRuns,
    omittedLanes: { task: taskLanes.length - drawnTasks.length, session: sums.count - sums.lanes.length },
    ...spanOf([...stageLanes, ...taskLanes], sums, gateRuns, now),
    ...(sums.hosts === undefined ? {} : { hosts: sums.hosts }),
    ...(compactedBefore === null ? {} : { compactedBefore }),
  };
}

/** The first and last edge of every stretch (lanes drawn or not, sessions' lifetimes, gate runs); `now` when there is none. */
function spanOf(lanes: readonly Lane[], sessions: { readonly start: number; readonly end: number }, gateRuns: readonly GateRun[], now: number): { start: number; end: number } {
  let { start, end } = sessions;
  const see = (from: number, to: number): void => {
    if (from < start) start = from;
    if (to > end) end = to;
  };
  for (const l of lanes) for (const i of l.intervals) see(i.start, i.end);
  for (const g of gateRuns) see(g.start, g.end);
  return start === Infinity ? { start: now, end: now } : { start, end };
}

function elapsed(lane: Lane): number {
  const work = lane.intervals.filter((i) => i.state !== "Pending");
  return work.length === 0 ? 0 : work.at(-1)!.end - work[0]!.start;
}
