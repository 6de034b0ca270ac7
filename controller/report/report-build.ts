/**
 * Reading the report from the ledger. `streamReport` starts from the rollups
 * the ledger keeps as events are inserted (migration 0019): per-session
 * status totals and the few events that are not status changes, so the
 * screen-status history (most of a busy ledger) is read only for the
 * sessions drawn on the timeline or touched by a pause, each folded from its
 * own events. It reads the sessions a page at a time
 * (report-sessions.repository.ts) and hands each session's row to its sink
 * as it is computed, within one snapshot of the ledger. Memory holds a page,
 * the stages and tasks, and the sums over sessions, never every session or
 * event. `buildReportFromEvents` folds every event instead: the definition
 * the rollups must agree with. */
import { sql } from "kysely";
import type { Report, ReportContext, ReportEvent, SessionUsage } from "./report-model.js";
import { drawnSessions, REPORT_ACTIONS, ReportFold, reportSessions } from "./report-fold.js";
import { MAX_LANES, reportHead, bottleneckTasks, reportTail, type ReportHead, type ReportTail } from "./report-assemble.js";
import { anySessionOnHost, countReportSessions, streamReportSessions, type ReportSessionPage, type ReportSessionQuery, type ReportSessionRecord } from "../../state/report-sessions.repository.js";
import { ReportTally, TokenTally } from "./report-tally.js";
import { sessionTokens, type TokenTotals } from "./report-tokens.js";
import { PrettyObjectWriter } from "./json-chunks.js";
import type { Ledger } from "../../state/ledger.js";
import { nowIso } from "../../state/ledger.js";
import { dialectOf } from "../../state/dialect.js";
import { latestUsageBySession } from "../../state/agent-events.repository.js";
import { readCompactedBefore, readPauseEvents, readSessionRollups, streamProjectedEventPages, streamStatusEventPages } from "../../state/report-rollups.repository.js";
import type { PricingTable } from "./report-tokens.js";
import { readReportHosts, withHostFigures } from "./report-hosts.js";
import { planSessionRollups, rollupSeed, type RollupPlan } from "./report-rollup-plan.js";
import { ms } from "./report-intervals.js";
import { PauseTracker, SessionFold, type SessionRollup } from "./report-session-fold.js";

/**
 * Events read per page: the report's memory does not grow with the ledger. Small pages keep the
 * report's peak lower and its garbage collection cheaper (a page read but not yet folded is what
 * survives a collection): 1000 took 1M events' report from 166 to 148 MB peak RSS, with less CPU.
 */
const PAGE = 1000;

/** What a report is asked for. */
export interface ReportOptions {
  readonly stage?: string;
  readonly now?: string;
  readonly project?: string;
  readonly pricing?: PricingTable;
  /** Sessions read per page (default 500): what a streamed report holds at once. */
  readonly pageSize?: number;
}

/**
 * Every report event, oldest first (by time, ties in ledger order), read in
 * pages by keyset (`at`, `id`) along the events_at index, only the payload
 * fields the report reads.
 */
export async function* readReportEvents(db: Ledger, pageSize = PAGE): AsyncGenerator<ReportEvent> {
  let after: { readonly at: string; readonly id: number } | null = null;
  const dialect = dialectOf(db);
  const json = (key: string) => dialect.jsonText("payload", key);
  for (;;) {
    const from = after;
    // NOTE: `+action` keeps SQLite off the events_action index: it walks events_at in order instead of sorting every match per page.
    let q = db.selectFrom("events")
      .select(["id", "at", "action", "subject", json("to").as("to"), json("role").as("role"), json("since").as("since")])
      .where(dialect.unindexed("action"), "in", REPORT_ACTIONS);
    if (from !== null) q = q.where(sql<boolean>`(at, id) > (${from.at}, ${from.id})`);
    const rows = await q.orderBy("at").orderBy("id").limit(pageSize).execute();
    for (const e of rows) yield { at: e.at, action: e.action, subject: e.subject, payload: { to: e.to, role: e.role, ...(e.since === null ? {} : { since: e.since }) } };
    if (rows.length < pageSize) return;
    after = rows.at(-1)!;
  }
}

/** Everything but the events: sessions, command counts, gates, tasks, reported usage. */
export async function readReportContext(db: Ledger, options: ReportOptions): Promise<ReportContext> {
  const sessions = await db.selectFrom("sessions").select(["id", "task", "stage", "role", "agent", "model", "created_at", "closed_at", "restarts"]).orderBy("created_at").orderBy("id").execute();
  const commands = await db.selectFrom("commands").select((eb) => ["session_id", "state", eb.fn.countAll<number>().as("n")]).groupBy(["session_id", "state"]).execute();
  return {
    ...(await readReportGlobals(db, options)),
    sessions: sessions.map((s) => ({ id: s.id, task: s.task, stage: s.stage, role: s.role, agent: s.agent, model: s.model, createdAt: s.created_at, closedAt: s.closed_at, restarts: s.restarts })),
    commands: commands.map((c) => ({ sessionId: c.session_id, state: c.state, count: Number(c.n) })),
    usage: await latestUsageBySession(db),
  };
}

/** The context without sessions, commands and usage: the rows every report holds (gates, tasks) and the options. */
async function readReportGlobals(db: Ledger, options: ReportOptions): Promise<ReportContext> {
  const gates = await db.selectFrom("gates").select(["task", "kind", "command", "attempt", "state", "exit_code", "started_at", "duration_ms"]).orderBy("id").execute();
  const tasks = await db.selectFrom("tasks").select(["name", "stage"]).execute();
  return {
    now: options.now ?? nowIso(),
    sessions: [],
    commands: [],
    gates: gates.map((g) => ({ task: g.task, kind: g.kind, command: g.command, attempt: g.attempt, state: g.state, exitCode: g.exit_code, startedAt: g.started_at, durationMs: g.duration_ms })),
    tasks,
    ...(options.pricing === undefined ? {} : { pricing: options.pricing }),
    ...(options.stage === undefined ? {} : { stage: options.stage }),
    ...(options.project === undefined ? {} : { project: options.project }),
  };
}

/** The report by folding every event of the ledger (the reference the rollups are checked against; and the fallback). */
export async function buildReportFromEvents(db: Ledger, options: ReportOptions = {}): Promise<Report> {
  const fold = new ReportFold(await readReportContext(db, options));
  for await (const e of readReportEvents(db)) fold.add(e);
  return withHostFigures(fold.finish(), await readReportHosts(db));
}

/** Which sessions a report takes from the rollups and which it replays (report-rollup-plan.ts), and the latest compaction. */
export async function readRollupPlan(db: Ledger, ctx: ReportContext): Promise<RollupPlan & { readonly compactedBefore: string | null }> {
  const pauses = new PauseTracker();
  for (const e of await readPauseEvents(db)) pauses.add(e);
  const compacted = await readCompactedBefore(db);
  const sessions = reportSessions(ctx);
  const plan = planSessionRollups({ sessions, drawn: drawnSessions(sessions), rollups: await readSessionRollups(db), pauses, now: ms(ctx.now), compactedBefore: compacted === null ? null : ms(compacted) });
  return { ...plan, compactedBefore: compacted };
}

/** Where a streamed report goes: its head, then each session's row in report order, then its tail. */
export interface ReportSink {
  head(head: ReportHead): void;
  session(row: SessionUsage): void;
  /** After each page of sessions: a writer waits here for its reader (backpressure). */
  page?(): Promise<void>;
  tail(tail: ReportTail): void;
}

/** Where `writeReportJson` writes: a Node writable's `write` (false: wait for `drain`) and `once`. */
export interface JsonOut {
  write(text: string): boolean;
  once(event: "drain", listener: () => void): unknown;
}

/** Reads what the report needs from the ledger's rollups and computes it, handing it to `sink` in order; one snapshot of the ledger. */
export async function streamReport(db: Ledger, options: ReportOptions, sink: ReportSink): Promise<void> {
  await db.transaction().setIsolationLevel("repeatable read").setAccessMode("read only").execute((trx) => streamReportIn(trx, options, sink));
}

async function streamReportIn(db: Ledger, options: ReportOptions, sink: ReportSink): Promise<void> {
  const ctx = await readReportGlobals(db, options);
  const now = ms(ctx.now);
  const pricing = options.pricing ?? {};
  const query: ReportSessionQuery = { ...(options.stage === undefined ? {} : { stage: options.stage }), ...(options.pageSize === undefined ? {} : { pageSize: options.pageSize }) };
  const pauses = new PauseTracker();
  for (const e of await readPauseEvents(db)) pauses.add(e);
  const compacted = await readCompactedBefore(db);
  // The events but status changes: stage and task phases, waits (the sessions come from their rows and rollups below).
  const fold = new ReportFold({ ...ctx, sessions: [] });
  for await (const page of streamProjectedEventPages(db, PAGE)) for (const e of page) fold.add(e);
  const phases = fold.finishPhases();
  const counts = await countReportSessions(db, query);
  // Only stages with phase changes are rows of the report (none: no usage to sum).
  sink.head(reportHead(ctx, phases, phases.stageLanes.length === 0 ? new Map() : await readStageUsage(db, query, counts, pricing)));
  const tally = new ReportTally({ now, pricing, hostsOn: await anySessionOnHost(db), wanted: bottleneckTasks(phases) });
  // The newest MAX_LANES are drawn: the last ones read.
  const firstDrawn = [...counts.values()].reduce((n, c) => n + c, 0) - MAX_LANES;
  let read = 0;
  for await (const page of streamReportSessions(db, { ...query, totals: true, commands: true })) {
    const drawn = new Set(page.sessions.filter((_, i) => read + i >= firstDrawn).map((s) => s.id));
    const rollups = await readPageRollups(db, page, { drawn, pauses, now, compactedBefore: compacted === null ? null : ms(compacted) });
    for (const s of page.sessions) sink.session(tally.add({ session: s, rollup: rollups.get(s.id)!, usage: page.usage, commands: page.commands.get(s.id), host: s.host }));
    read += page.sessions.length;
    await sink.page?.();
  }
  sink.tail(reportTail(phases, tally.finish(), compacted));
}

/** Sessions replayed per query of their status events. */
const REPLAY_BATCH = 500;

/**
 * Each session's figures: from its rollup where that is exact (report-rollup-plan.ts), else by folding its
 * own status events. A session's figures need only its events and the pauses (all known beforehand), so
 * the sessions of a page are folded apart from the rest of the ledger.
 */
async function readPageRollups(db: Ledger, page: ReportSessionPage, plan: Parameters<typeof rollupSeed>[0]): Promise<Map<string, SessionRollup>> {
  const out = new Map<string, SessionRollup>();
  const replay: ReportSessionRecord[] = [];
  for (const s of page.sessions) {
    const seed = rollupSeed(plan, s, s.head === null ? undefined : { head: s.head, totals: page.totals.get(s.id) ?? {} });
    if (seed === null) replay.push(s);
    else out.set(s.id, seed);
  }
  for (let i = 0; i < replay.length; i += REPLAY_BATCH) {
    const batch = replay.slice(i, i + REPLAY_BATCH);
    const fold = new SessionFold(batch, plan.pauses, { now: plan.now, drawn: plan.drawn });
    for await (const events of streamStatusEventPages(db, batch.map((s) => s.id), PAGE)) for (const e of events) fold.add(e);
    for (const [id, rollup] of fold.finish(plan.now)) out.set(id, rollup);
  }
  return out;
}

/** Each stage's tokens (the stages come before the sessions in the report): the sessions that reported usage, in report order; the rest are unknown. */
async function readStageUsage(db: Ledger, query: ReportSessionQuery, counts: ReadonlyMap<string | null, number>, pricing: PricingTable): Promise<Map<string, TokenTotals>> {
  const tallies = new Map<string, { tally: TokenTally; known: number }>();
  for await (const page of streamReportSessions(db, { ...query, withUsage: true })) {
    for (const s of page.sessions) {
      if (s.stage === null) continue;
      const of = tallies.get(s.stage) ?? { tally: new TokenTally(), known: 0 };
      tallies.set(s.stage, of);
      of.tally.add(sessionTokens(s, page.usage, pricing));
      of.known += 1;
    }
  }
  const out = new Map<string, TokenTotals>();
  for (const [stage, n] of counts) {
    if (stage === null) continue;
    const of = tallies.get(stage) ?? { tally: new TokenTally(), known: 0 };
    of.tally.addUnknown(n - of.known);
    out.set(stage, of.tally.finish());
  }
  return out;
}

/** The report, every session's row in memory (text and HTML; `writeReportJson` writes them as they come). */
export async function buildReport(db: Ledger, options: ReportOptions = {}): Promise<Report> {
  let head: ReportHead | undefined;
  let tail: ReportTail | undefined;
  const sessions: SessionUsage[] = [];
  await streamReport(db, options, { head: (h) => void (head = h), session: (s) => void sessions.push(s), tail: (t) => void (tail = t) });
  return { ...head!, sessions, ...tail! };
}

/**
 * The report as `JSON.stringify(report, null, 2)` and a newline, written in pieces as the sessions are read;
 * after each page it waits until `out` has taken what it was given (a pipe's reader may be slower).
 */
export async function writeReportJson(db: Ledger, options: ReportOptions, out: JsonOut): Promise<void> {
  let blocked = false;
  const writer = new PrettyObjectWriter((text) => void (blocked = !out.write(text) || blocked));
  await streamReport(db, options, {
    head: (h) => {
      writer.fieldsOf(h);
      writer.openArray("sessions");
    },
    session: (s) => writer.item(s),
    page: async () => {
      if (blocked) await new Promise<void>((resolve) => out.once("drain", resolve));
      blocked = false;
    },
    tail: (t) => {
      writer.closeArray();
      writer.fieldsOf(t);
    },
  });
  writer.end();
}
