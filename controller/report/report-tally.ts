/**
 * Pure, one session at a time (in report order, oldest first): each
 * session's row of the report, and the sums over sessions the report shows
 * beside them (agents, hosts, commands by state, the span, the drawn lanes,
 * the sessions of the tasks bottlenecks name). Memory holds the sums and the
 * drawn lanes, never the sessions, so the report's sessions can be written
 * as they are read.
 */
import { ms } from "./report-intervals.js";
import type { AgentUsage, Lane, ReportSessionRow, SessionUsage } from "./report-model.js";
import type { SessionRollup } from "./report-session-fold.js";
import { sessionTokens, type PricingTable, type SessionTokens, type TokenTotals } from "./report-tokens.js";
import { addUsage, NO_USAGE, totalTokens, type TokenUsage } from "../core/token-usage.js";
import type { HostFigures } from "./report-hosts.js";

/** `sumTokens` one session at a time: the same sums, in the same order. */
export class TokenTally {
  private tokens: TokenUsage = NO_USAGE;
  private known = 0;
  private cost = 0;
  private priced = 0;
  private rows = 0;

  add(t: SessionTokens): void {
    this.rows += 1;
    if (t.tokens !== "unknown") [this.tokens, this.known] = [addUsage(this.tokens, t.tokens), this.known + 1];
    if (t.cost !== "unknown") [this.cost, this.priced] = [this.cost + t.cost, this.priced + 1];
  }

  /** Sessions that reported nothing: counted as unknown, summed nowhere. */
  addUnknown(n: number): void {
    this.rows += n;
  }

  finish(): TokenTotals {
    return { tokens: this.known === 0 ? "unknown" : totalTokens(this.tokens), cost: this.priced === 0 ? "unknown" : this.cost, unknownSessions: this.rows - this.known };
  }
}

/** Pure: one session's row of the report from its rollup. */
export function sessionUsage(s: ReportSessionRow, rollup: SessionRollup, end: number, tokens: SessionTokens): SessionUsage {
  const lifetimeMs = Math.max(0, (s.closedAt === null ? end : ms(s.closedAt)) - ms(s.createdAt));
  const t = rollup.totals;
  const [busyMs, idleMs, waitingMs, pausedMs, startingMs, errorMs, stuckMs] = [t.running ?? 0, t.idle ?? 0, t.waiting ?? 0, t.paused ?? 0, t.starting ?? 0, t.error ?? 0, t.unknown ?? 0];
  const otherMs = Math.max(0, lifetimeMs - busyMs - idleMs - waitingMs - pausedMs - startingMs - errorMs - stuckMs);
  // One literal in the row's field order (~20k rows at a million events).
  return { id: s.id, task: s.task, role: s.role, agent: s.agent, model: s.model, lifetimeMs, busyMs, idleMs, waitingMs, pausedMs, startingMs, errorMs, stuckMs, otherMs, utilization: lifetimeMs === 0 ? 0 : busyMs / lifetimeMs, ...tokens };
}

interface AgentSums {
  readonly agent: string;
  readonly model: string | null;
  sessions: number;
  commands: number;
  restarts: number;
  busyMs: number;
  errorMs: number;
  stuckMs: number;
  readonly tokens: TokenTally;
}

/** What the tally sums over sessions. */
export interface SessionSums {
  readonly count: number;
  readonly agents: AgentUsage[];
  /** Per host, by host name; undefined when no session ran on an agent host. */
  readonly hosts: HostFigures[] | undefined;
  readonly commandsByState: Record<string, number>;
  /** The drawn sessions' lanes, in report order. */
  readonly lanes: Lane[];
  /** The earliest creation and latest end of the sessions (Infinity / -Infinity when none). */
  readonly start: number;
  readonly end: number;
  /** The sessions of each task `wanted` named, in report order. */
  readonly sessionsOf: ReadonlyMap<string, readonly string[]>;
}

/** What `ReportTally` is told once. */
export interface TallyOptions {
  readonly now: number;
  readonly pricing: PricingTable;
  /** Sessions ran on agent hosts (some session's reservation names one): every row says its host, `local` by default. */
  readonly hostsOn: boolean;
  /** Tasks whose sessions the bottlenecks list. */
  readonly wanted: ReadonlySet<string>;
}

/** Sums over the sessions, one at a time. */
export class ReportTally {
  private count = 0;
  private start = Infinity;
  private end = -Infinity;
  private readonly agents = new Map<string, AgentSums>();
  private readonly hosts = new Map<string, { sessions: number; busyMs: number; lifetimeMs: number }>();
  private readonly commands = new Map<string, number>();
  private readonly lanes: Lane[] = [];
  private readonly sessionsOf = new Map<string, string[]>();

  constructor(private readonly options: TallyOptions) {}

  /** The session's row (with its host when sessions ran on hosts); `commands`: its commands by state. */
  add(input: { readonly session: ReportSessionRow; readonly rollup: SessionRollup; readonly usage: ReadonlyMap<string, TokenUsage>; readonly commands?: ReadonlyMap<string, number>; readonly host?: string | null }): SessionUsage {
    const { session: s, rollup } = input;
    const options = this.options;
    const base = sessionUsage(s, rollup, options.now, sessionTokens(s, input.usage, options.pricing));
    const row = options.hostsOn ? { ...base, host: input.host ?? "local" } : base;
    this.count += 1;
    const [from, to] = [ms(s.createdAt), s.closedAt === null ? options.now : ms(s.closedAt)];
    if (to > from) [this.start, this.end] = [Math.min(this.start, from), Math.max(this.end, to)];
    let commands = 0;
    for (const [state, n] of input.commands ?? []) {
      this.commands.set(state, (this.commands.get(state) ?? 0) + n);
      commands += n;
    }
    this.addAgent(s, row, commands);
    if (row.host !== undefined) {
      const h = this.hosts.get(row.host) ?? { sessions: 0, busyMs: 0, lifetimeMs: 0 };
      this.hosts.set(row.host, { sessions: h.sessions + 1, busyMs: h.busyMs + row.busyMs, lifetimeMs: h.lifetimeMs + row.lifetimeMs });
    }
    if (rollup.intervals !== null) this.lanes.push({ kind: "session", name: s.id, intervals: rollup.intervals, current: rollup.current });
    const task = s.task ?? "";
    if (options.wanted.has(task)) {
      const of = this.sessionsOf.get(task);
      if (of === undefined) this.sessionsOf.set(task, [s.id]);
      else of.push(s.id);
    }
    return row;
  }

  finish(): SessionSums {
    const agents = [...this.agents.values()].map((a) => ({ agent: a.agent, model: a.model, sessions: a.sessions, commands: a.commands, restarts: a.restarts, busyMs: a.busyMs, errorMs: a.errorMs, stuckMs: a.stuckMs, ...a.tokens.finish() }));
    const hosts = this.options.hostsOn ? [...this.hosts].map(([host, h]) => ({ host, ...h, utilization: h.lifetimeMs === 0 ? 0 : h.busyMs / h.lifetimeMs })).sort((a, b) => a.host.localeCompare(b.host)) : undefined;
    // By state name: the same order on every backend.
    const commandsByState = Object.fromEntries([...this.commands].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    return { count: this.count, agents, hosts, commandsByState, lanes: this.lanes, start: this.start, end: this.end, sessionsOf: this.sessionsOf };
  }

  private addAgent(s: ReportSessionRow, row: SessionUsage, commands: number): void {
    const key = `${s.agent}\0${s.model ?? ""}`;
    let a = this.agents.get(key);
    if (a === undefined) this.agents.set(key, (a = { agent: s.agent, model: s.model === "" ? null : s.model, sessions: 0, commands: 0, restarts: 0, busyMs: 0, errorMs: 0, stuckMs: 0, tokens: new TokenTally() }));
    a.sessions += 1;
    a.commands += commands;
    a.restarts += s.restarts;
    a.busyMs += row.busyMs;
    a.errorMs += row.errorMs;
    a.stuckMs += row.stuckMs;
    a.tokens.add(row);
  }
}
