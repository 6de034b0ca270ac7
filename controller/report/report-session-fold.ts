/**
 * Pure, one event at a time: pauses, and each session's time per screen
 * status with pauses carved out, without keeping the status changes (only
 * the sessions drawn on the timeline keep theirs). Events must come in time
 * order: when a status stretch closes at `b`, every pause that began before
 * `b` is known, and one still open lasts at least until `b`.
 */
import { carvePauses, intervalsOf, ms, union, type Interval } from "./report-intervals.js";

/** `Paused` .. `Resumed` per target (`project`, `stage/x`, `task/x`), as they arrive. */
export class PauseTracker {
  private readonly open = new Map<string, number>();
  private readonly closed = new Map<string, Interval[]>();

  add(e: { readonly at: string; readonly action: string; readonly subject: string }): void {
    if (e.action === "Paused" && !this.open.has(e.subject)) this.open.set(e.subject, ms(e.at));
    if (e.action === "Resumed" && this.open.has(e.subject)) {
      this.closed.set(e.subject, [...(this.closed.get(e.subject) ?? []), { state: "paused", start: this.open.get(e.subject)!, end: ms(e.at) }]);
      this.open.delete(e.subject);
    }
  }

  /** No pause seen so far. */
  get none(): boolean {
    return this.open.size === 0 && this.closed.size === 0;
  }

  /** The targets' pauses known so far; one still open ends at `openEnd`. */
  of(targets: readonly string[], openEnd: number): Interval[] {
    if (this.none) return [];
    return targets.flatMap((t) => {
      const open = this.open.get(t);
      return [...(this.closed.get(t) ?? []), ...(open === undefined ? [] : [{ state: "paused", start: open, end: Math.max(open, openEnd) }])];
    });
  }
}

/** How much of `from`..`to` the pauses cover (counted once where they overlap). */
export function pausedWithin(pauses: readonly Interval[], from: number, to: number): number {
  return union(pauses.map((p) => ({ ...p, start: Math.max(p.start, from), end: Math.min(p.end, to) }))).reduce((n, p) => n + (p.end - p.start), 0);
}

export interface FoldSession {
  readonly id: string;
  readonly task: string | null;
  readonly stage: string | null;
  readonly createdAt: string;
  readonly closedAt: string | null;
}

/** One session's totals per state (pauses carved out, `paused` apart) and, when drawn, its timeline lane. */
export interface SessionRollup {
  readonly totals: Readonly<Record<string, number>>;
  readonly current: string;
  /** Only for drawn sessions. */
  readonly intervals: readonly Interval[] | null;
}

interface Open {
  readonly session: FoldSession;
  readonly start: number;
  readonly stop: number;
  readonly targets: readonly string[];
  state: string;
  since: number;
  readonly totals: Record<string, number>;
  readonly changes: { at: number; state: string }[] | null;
}

/** Folds `SessionStatusChanged` events into per-session totals. */
export class SessionFold {
  private readonly sessions = new Map<string, Open>();
  private readonly seeds: ReadonlyMap<string, SessionRollup>;

  /** `seeds`: sessions already rolled up (report-rollup-plan.ts); their events are not read. */
  constructor(sessions: readonly FoldSession[], private readonly pauses: PauseTracker, options: { readonly now: number; readonly drawn: ReadonlySet<string>; readonly seeds?: ReadonlyMap<string, SessionRollup> }) {
    this.seeds = options.seeds ?? new Map();
    for (const s of sessions) {
      if (this.seeds.has(s.id)) continue;
      const start = ms(s.createdAt);
      const stop = s.closedAt === null ? options.now : ms(s.closedAt);
      const targets = ["project", `stage/${s.stage}`, `task/${s.task}`];
      const changes = options.drawn.has(s.id) ? [{ at: start, state: "starting" }] : null;
      this.sessions.set(`session/${s.id}`, { session: s, start, stop, targets, state: "starting", since: start, totals: {}, changes });
    }
  }

  /** Takes the next event (in time order); only status changes of known sessions count, within their lifetime. */
  add(e: { readonly at: string; readonly action: string; readonly subject: string; readonly payload: Readonly<Record<string, unknown>> }): void {
    if (e.action !== "SessionStatusChanged") return;
    const open = this.sessions.get(e.subject);
    if (open === undefined || ms(e.at) < open.start) return;
    // A status observed late on an unchanged screen holds from `since` (never before the previous change).
    const at = Math.max(typeof e.payload.since === "string" ? ms(e.payload.since) : ms(e.at), open.since);
    if (at > open.stop) return;
    this.close(open, at);
    open.state = String(e.payload.to);
    open.since = at;
    open.changes?.push({ at, state: open.state });
  }

  /** Every session's rollup, by id, once all events are in; open pauses end at `now`. */
  finish(now: number): Map<string, SessionRollup> {
    const out = new Map<string, SessionRollup>(this.seeds);
    for (const open of this.sessions.values()) {
      this.close(open, open.stop);
      const pauses = this.pauses.of(open.targets, now);
      open.totals.paused = pausedWithin(pauses, open.start, open.stop);
      const intervals = open.changes === null ? null : carvePauses(intervalsOf(open.changes, open.stop), pauses, open.start, open.stop);
      out.set(open.session.id, { totals: open.totals, current: open.session.closedAt === null ? open.state : "closed", intervals });
    }
    return out;
  }

  /** Ends the current stretch at `at`: its length outside pauses goes to its state. */
  private close(open: Open, at: number): void {
    if (at <= open.since) return;
    const paused = pausedWithin(this.pauses.of(open.targets, at), open.since, at);
    open.totals[open.state] = (open.totals[open.state] ?? 0) + (at - open.since) - paused;
    open.since = at;
  }
}
