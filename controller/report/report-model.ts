/**
 * Pure: cost, time and utilization figures (seed skill 18) from ledger
 * records. Every number is derived from timestamped events and rows, so a
 * ledger with known timings gives known figures. Definitions are in
 * README's "Reading the report" section; each is restated on its field.
 */
import type { Bottleneck } from "./report-bottlenecks.js";
import type { TaskPhaseTimes } from "./report-task-phases.js";
import { ms, type Interval } from "./report-intervals.js";
import type { PricingTable, TokenTotals } from "./report-tokens.js";
import type { TokenUsage } from "../core/token-usage.js";
import type { GateRun, ReportGateRow } from "./report-gate-runs.js";
import { ReportFold } from "./report-fold.js";
import type { HostFigures } from "./report-hosts.js";
import type { SessionRollup } from "./report-session-fold.js";
import type { ReportSessionRecord } from "../../state/report-sessions.repository.js";

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

/** A session as the figures need it: the ledger's page row without what the page reads beside it. */
export type ReportSessionRow = Omit<ReportSessionRecord, "host" | "head">;

/** Everything but the events, which the report folds one at a time (`ReportFold`). */
export interface ReportContext {
  readonly now: string;
  readonly sessions: readonly ReportSessionRow[];
  /** Commands by session and state (`count` of them; absent: one). */
  readonly commands: readonly { readonly sessionId: string; readonly state: string; readonly count?: number }[];
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
  /** Sessions whose figures come from the ledger's rollups (their status events are not folded). */
  readonly seeds?: ReadonlyMap<string, SessionRollup>;
  /** The sessions drawn on the timeline (default: the newest `MAX_LANES` of `sessions`). */
  readonly drawn?: ReadonlySet<string>;
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
  /** The agent host it ran on (`local`: this machine); present only when sessions ran on agent hosts. */
  readonly host?: string;
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
  /** Lanes left off the timeline to keep it (and memory) bounded: the oldest tasks and sessions; every figure still counts them. */
  readonly omittedLanes: { readonly task: number; readonly session: number };
  /** Epoch ms of the first and last interval edge (the timeline's span). */
  readonly start: number;
  readonly end: number;
  /** Per agent host: sessions, busy and lifetime, utilization; present only when sessions ran on agent hosts. */
  readonly hosts?: readonly HostFigures[];
  /** Present when `gaffer ledger compact` dropped events older than this: sessions created before it count from their rollups (not drawn, pauses not carved out). */
  readonly compactedBefore?: string;
}

/** The records the report is computed from, events in memory. */
export interface ReportInput extends ReportContext {
  /** In ledger id order; the model orders them by `at` (stable, so ties keep id order). */
  readonly events: readonly ReportEvent[];
}

/** Pure: the report from ledger records held in memory (tests, small ledgers); `buildReport` streams them instead. */
export function buildReportModel(raw: ReportInput): Report {
  const fold = new ReportFold(raw);
  for (const e of [...raw.events].sort((a, b) => ms(a.at) - ms(b.at))) fold.add(e);
  return fold.finish();
}
