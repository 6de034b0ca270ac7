/**
 * Pure: which sessions the report takes from the ledger's rollups and which
 * it replays from their events. A rollup is used only where it gives exactly
 * what folding the events would: the session is not drawn on the timeline
 * (a lane needs its changes), no pause of its project, stage or task
 * overlaps its lifetime (pauses are carved out of stretches), and its changes
 * came in time order within its lifetime. Sessions older than a compaction
 * always use the rollup (their events may be gone).
 */
import type { SessionStatusRollup } from "../../state/report-rollups.repository.js";
import { ms } from "./report-intervals.js";
import type { ReportSessionRow } from "./report-model.js";
import type { PauseTracker, SessionRollup } from "./report-session-fold.js";

/** What `planSessionRollups` reads. */
export interface RollupPlanInput {
  /** The sessions the report covers (its stage's), oldest first. */
  readonly sessions: readonly ReportSessionRow[];
  readonly drawn: ReadonlySet<string>;
  readonly rollups: ReadonlyMap<string, SessionStatusRollup>;
  /** Every Paused/Resumed event already added. */
  readonly pauses: PauseTracker;
  readonly now: number;
  /** Epoch ms of the latest compaction's `before`, or null. */
  readonly compactedBefore: number | null;
}

/** Sessions whose figures come from rollups (as the fold would finish them), and the ids to replay. */
export interface RollupPlan {
  readonly seeds: Map<string, SessionRollup>;
  readonly replay: string[];
}

/** Pure: splits the sessions between rollups and replay. */
export function planSessionRollups(input: RollupPlanInput): RollupPlan {
  const seeds = new Map<string, SessionRollup>();
  const replay: string[] = [];
  for (const s of input.sessions) {
    const seed = rollupSeed(input, s, input.rollups.get(s.id));
    if (seed === null) replay.push(s.id);
    else seeds.set(s.id, seed);
  }
  return { seeds, replay };
}

/** Pure: the session's figures from its rollup when they are exact (or compacted), else null (replay its events). */
export function rollupSeed(input: Omit<RollupPlanInput, "sessions" | "rollups">, s: ReportSessionRow, rollup: SessionStatusRollup | undefined): SessionRollup | null {
  const start = ms(s.createdAt);
  const stop = s.closedAt === null ? input.now : ms(s.closedAt);
  const compacted = input.compactedBefore !== null && start < input.compactedBefore;
  const exact = !input.drawn.has(s.id) && !pausedDuring(input, s, start, stop) && (rollup === undefined || isExact(rollup, start, stop));
  return compacted || exact ? seedOf(s, rollup, start, stop) : null;
}

function pausedDuring(input: Pick<RollupPlanInput, "pauses" | "now">, s: ReportSessionRow, start: number, stop: number): boolean {
  if (input.pauses.none) return false;
  return input.pauses.of(["project", `stage/${s.stage}`, `task/${s.task}`], input.now).some((p) => p.start <= stop && p.end >= start);
}

function isExact(rollup: SessionStatusRollup, start: number, stop: number): boolean {
  const { head } = rollup;
  return !head.irregular && ms(head.firstAt) >= start && ms(head.firstSince) >= start && ms(head.since) <= stop;
}

/** The session's totals as SessionFold would finish them: start-up until the first change, the rolled-up stretches, the open one until `stop`. */
export function seedOf(s: ReportSessionRow, rollup: SessionStatusRollup | undefined, start: number, stop: number): SessionRollup {
  const totals: Record<string, number> = { ...rollup?.totals };
  const add = (state: string, n: number): void => {
    if (n > 0) totals[state] = (totals[state] ?? 0) + n;
  };
  if (rollup === undefined) add("starting", stop - start);
  else {
    add("starting", Math.min(ms(rollup.head.firstSince), stop) - start);
    add(rollup.head.state, stop - Math.max(ms(rollup.head.since), start));
  }
  totals.paused = 0;
  return { totals, current: s.closedAt === null ? (rollup?.head.state ?? "starting") : "closed", intervals: null };
}
