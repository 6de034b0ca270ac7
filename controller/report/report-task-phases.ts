/** Pure: how long each task spent in each group of phases (the report's per-task table). */
import { total, type Interval } from "./report-intervals.js";

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

/** Rows for the task lanes (phase intervals from `TaskPhaseChanged`), in lane order. */
export function taskPhaseTimes(lanes: readonly { readonly name: string; readonly current: string; readonly intervals: readonly Interval[] }[], stageOf: (task: string) => string | undefined): TaskPhaseTimes[] {
  return lanes.map((lane) => {
    const ms = Object.fromEntries(Object.entries(PHASE_GROUPS).map(([group, phases]) => [group, phases.reduce((n, p) => n + total(lane.intervals, p), 0)])) as Record<PhaseGroup, number>;
    return { task: lane.name, stage: stageOf(lane.name) ?? null, phase: lane.current, ms, totalMs: lane.intervals.reduce((n, i) => n + (i.end - i.start), 0) };
  });
}
