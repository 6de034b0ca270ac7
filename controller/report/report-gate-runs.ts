/** Pure: the gate runs (commands and reviews, every attempt) as timeline bars with their result. */
import { ms } from "./report-intervals.js";

export interface ReportGateRow {
  readonly task: string;
  readonly startedAt: string;
  /** null while the gate still runs (counted up to `now`). */
  readonly durationMs: number | null;
  /** `command` or `review` (absent: command). */
  readonly kind?: string;
  /** The command's argv as JSON, or `review`. */
  readonly command?: string;
  readonly attempt?: number;
  /** `running`, `passed` or `failed` (absent: from `durationMs`). */
  readonly state?: string;
  readonly exitCode?: number | null;
}

/** One gate run on the timeline: work done for its task, passed, failed or still running. */
export interface GateRun {
  readonly task: string;
  readonly stage: string | null;
  readonly kind: string;
  /** What ran, for people: `npm test`, or `review`. */
  readonly command: string;
  readonly attempt: number;
  readonly result: "passed" | "failed" | "running";
  readonly exitCode: number | null;
  /** Epoch ms; a running gate ends at `now`. */
  readonly start: number;
  readonly end: number;
}

/** `["npm","test"]` -> `npm test`; anything else as stored. */
function readable(command: string): string {
  try {
    const argv = JSON.parse(command) as unknown;
    return Array.isArray(argv) ? argv.map(String).join(" ") : command;
  } catch {
    return command;
  }
}

function resultOf(g: ReportGateRow): GateRun["result"] {
  if (g.state === "passed" || g.state === "failed") return g.state;
  return g.durationMs === null ? "running" : "passed";
}

/** The runs in start order (ties keep ledger order). */
export function gateRunsOf(gates: readonly ReportGateRow[], now: number, stageOf: (task: string) => string | undefined): GateRun[] {
  const runs = gates.map((g): GateRun => {
    const start = ms(g.startedAt);
    return {
      task: g.task, stage: stageOf(g.task) ?? null, kind: g.kind ?? "command", command: readable(g.command ?? ""), attempt: g.attempt ?? 1,
      result: resultOf(g), exitCode: g.exitCode ?? null, start, end: g.durationMs === null ? Math.max(start, now) : start + g.durationMs,
    };
  });
  return runs.map((r, i) => ({ r, i })).sort((a, b) => a.r.start - b.r.start || a.i - b.i).map(({ r }) => r);
}
