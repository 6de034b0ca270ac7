/** Pure: how long each task spent in each group of phases (the report's per-task table). */
import type { Interval } from "./report-intervals.js";

/** Phase groups, in the order a task goes through them. */
export const PHASE_GROUPS = {
  waiting: ["Pending", "Paused"],
  working: ["Provisioning", "Working", "Committing"],
  gating: ["Gating"],
  merging: ["Merging"],
  conflict: ["Conflict", "Resolving"],
} as const;

export type PhaseGroup = keyof typeof PHASE_GROUPS;

/** One task's row: its current phase and milliseconds per phase group. */
export interface TaskPhaseTimes {
  readonly task: string;
  readonly stage: string | null;
  readonly phase: string;
  readonly ms: Readonly<Record<PhaseGroup, number>>;
  readonly totalMs: number;
}

const GROUPS = Object.entries(PHASE_GROUPS) as [PhaseGroup, readonly string[]][];

/** Rows for the task lanes (phase intervals from `TaskPhaseChanged`), in lane order; one pass over each lane's intervals (whole milliseconds: sums in any order agree). */
export function taskPhaseTimes(lanes: readonly { readonly name: string; readonly current: string; readonly intervals: readonly Interval[] }[], stageOf: (task: string) => string | undefined): TaskPhaseTimes[] {
  return lanes.map((lane) => {
    const byState = new Map<string, number>();
    let totalMs = 0;
    for (const i of lane.intervals) {
      byState.set(i.state, (byState.get(i.state) ?? 0) + (i.end - i.start));
      totalMs += i.end - i.start;
    }
    const ms = {} as Record<PhaseGroup, number>;
    for (const [group, phases] of GROUPS) ms[group] = phases.reduce((n, p) => n + (byState.get(p) ?? 0), 0);
    return { task: lane.name, stage: stageOf(lane.name) ?? null, phase: lane.current, ms, totalMs };
  });
}
