/**
 * Pure: time lost per cause, summed over the stages or tasks that lost it (so
 * parallel waits add up and a total can exceed the wall-clock span).
 */
import { ms, total, type Interval } from "./report-intervals.js";
import type { Wait } from "./report-waits.js";

export interface Bottleneck {
  /** Stable key: approval | capacity | gates | merge-queue | conflicts. */
  readonly key: string;
  readonly cause: string;
  readonly ms: number;
  /** How many waits (stages, tasks, gate runs) make up `ms`. */
  readonly count: number;
  readonly detail: string;
  /** `wait` is time lost; `work` (gates, reviews) is time spent doing the work, shown apart from the losses. */
  readonly kind: "wait" | "work";
  /** Who lost (or spent) the time: stage, task and session names, sorted. */
  readonly stages: readonly string[];
  readonly tasks: readonly string[];
  readonly sessions: readonly string[];
}

export interface BottleneckInput {
  /** Waits folded from the events (report-waits.ts). */
  readonly capacity: Wait;
  readonly merge: Wait;
  readonly gates: readonly { readonly task: string; readonly startedAt: string; readonly durationMs: number | null }[];
  readonly stageLanes: readonly { readonly name: string; readonly intervals: readonly Interval[] }[];
  readonly taskLanes: readonly { readonly name: string; readonly intervals: readonly Interval[] }[];
  /** The task's stage (names the stages of task waits). */
  readonly stageOf?: (task: string) => string | undefined;
  /** The sessions that worked for a task. */
  readonly sessionsOf?: (task: string) => readonly string[];
  readonly now: number;
}

function laneTime(lanes: BottleneckInput["stageLanes"], states: readonly string[]): Wait {
  const per = lanes.map((l) => states.reduce((n, s) => n + total(l.intervals, s), 0));
  return { ms: per.reduce((a, b) => a + b, 0), count: per.filter((n) => n > 0).length, names: new Set(lanes.filter((_, i) => per[i]! > 0).map((l) => l.name)) };
}

/** The stages, tasks and sessions behind a row: stage waits name stages; task waits name tasks, their stages and sessions. */
function subjects(input: BottleneckInput, stages: Iterable<string>, tasks: Iterable<string>): Pick<Bottleneck, "stages" | "tasks" | "sessions"> {
  const t = [...new Set(tasks)].sort();
  const st = new Set(stages);
  for (const task of t) {
    const stage = input.stageOf?.(task);
    if (stage !== undefined) st.add(stage);
  }
  return { stages: [...st].sort(), tasks: t, sessions: [...new Set(t.flatMap((task) => input.sessionsOf?.(task) ?? []))].sort() };
}

/** Names listed per kind in the text and HTML (JSON has them all). */
const SHOWN_NAMES = 20;

/** `stage a, b; task x; session s1` (or `-`): who a bottleneck row is about; beyond 20 names per kind, `and N more`. */
export function bottleneckSubjects(row: Pick<Bottleneck, "stages" | "tasks" | "sessions">): string {
  const parts = [["stage", row.stages], ["task", row.tasks], ["session", row.sessions]] as const;
  const list = (names: readonly string[]): string => (names.length <= SHOWN_NAMES ? names.join(", ") : `${names.slice(0, SHOWN_NAMES).join(", ")} and ${names.length - SHOWN_NAMES} more`);
  return parts.filter(([, names]) => names.length > 0).map(([label, names]) => `${label} ${list(names)}`).join("; ") || "-";
}

/** The five causes, largest first (ties keep this order). */
export function findBottlenecks(input: BottleneckInput): Bottleneck[] {
  const approval = laneTime(input.stageLanes, ["AwaitingApproval"]);
  const capacity = input.capacity;
  const blocked = laneTime(input.stageLanes, ["Blocked"]);
  const gates = input.gates.reduce((n, g) => n + (g.durationMs ?? Math.max(0, input.now - ms(g.startedAt))), 0);
  const merge = input.merge;
  const conflicts = laneTime(input.taskLanes, ["Conflict", "Resolving"]);
  const rows: Bottleneck[] = [
    { key: "approval", cause: "approval wait", ms: approval.ms, count: approval.count, detail: `${approval.count} stage(s) in AwaitingApproval until a committed approval`, kind: "wait", ...subjects(input, approval.names, []) },
    { key: "capacity", cause: "capacity wait", ms: capacity.ms + blocked.ms, count: capacity.count + blocked.count, detail: `${capacity.count} task wait(s) for a free slot, ${blocked.count} stage(s) Blocked by allocation`, kind: "wait", ...subjects(input, blocked.names, capacity.names) },
    { key: "gates", cause: "gate time", ms: gates, count: input.gates.length, detail: `${input.gates.length} gate run(s) (commands and reviews)`, kind: "work", ...subjects(input, [], input.gates.map((g) => g.task)) },
    { key: "merge-queue", cause: "merge-queue wait", ms: merge.ms, count: merge.count, detail: `${merge.count} time(s) a task entered Merging and waited for its merge to start`, kind: "wait", ...subjects(input, [], merge.names) },
    { key: "conflicts", cause: "conflicts", ms: conflicts.ms, count: conflicts.count, detail: `${conflicts.count} task(s) in Conflict or Resolving`, kind: "wait", ...subjects(input, [], conflicts.names) },
  ];
  return rows.map((r, i) => ({ r, i })).sort((a, b) => b.r.ms - a.r.ms || a.i - b.i).map(({ r }) => r);
}
