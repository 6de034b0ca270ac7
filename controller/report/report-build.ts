/**
 * Reading the report from the ledger. `buildReport` starts from the rollups
 * the ledger keeps as events are inserted (migration 0019): per-session
 * status totals and the few events that are not status changes, so the
 * screen-status history (most of a busy ledger) is read only for the
 * sessions drawn on the timeline or touched by a pause. Memory holds the
 * sessions, tasks and stages, never the events. `buildReportFromEvents`
 * folds every event instead: the definition the rollups must agree with.
 */
import { sql } from "kysely";
import type { Report, ReportContext, ReportEvent } from "./report-model.js";
import { drawnSessions, REPORT_ACTIONS, ReportFold, reportSessions } from "./report-fold.js";
import type { Ledger } from "../../state/ledger.js";
import { nowIso } from "../../state/ledger.js";
import { dialectOf } from "../../state/dialect.js";
import { latestUsageBySession } from "../../state/agent-events.repository.js";
import { readCompactedBefore, readPauseEvents, readSessionRollups, streamProjectedEvents, streamStatusEvents, type RollupEvent } from "../../state/report-rollups.repository.js";
import type { PricingTable } from "./report-tokens.js";
import { readReportHosts, withHostFigures } from "./report-hosts.js";
import { planSessionRollups, type RollupPlan } from "./report-rollup-plan.js";
import { ms } from "./report-intervals.js";
import { PauseTracker } from "./report-session-fold.js";

/** Events read per page: the report's memory does not grow with the ledger. */
const PAGE = 5000;

/** What a report is asked for. */
export interface ReportOptions {
  readonly stage?: string;
  readonly now?: string;
  readonly project?: string;
  readonly pricing?: PricingTable;
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
  const sessions = await db.selectFrom("sessions").select(["id", "task", "stage", "role", "agent", "model", "created_at", "closed_at", "restarts"]).orderBy("created_at").execute();
  const commands = await db.selectFrom("commands").select((eb) => ["session_id", "state", eb.fn.countAll<number>().as("n")]).groupBy(["session_id", "state"]).execute();
  const gates = await db.selectFrom("gates").select(["task", "kind", "command", "attempt", "state", "exit_code", "started_at", "duration_ms"]).orderBy("id").execute();
  const tasks = await db.selectFrom("tasks").select(["name", "stage"]).execute();
  return {
    now: options.now ?? nowIso(),
    sessions: sessions.map((s) => ({ id: s.id, task: s.task, stage: s.stage, role: s.role, agent: s.agent, model: s.model, createdAt: s.created_at, closedAt: s.closed_at, restarts: s.restarts })),
    commands: commands.map((c) => ({ sessionId: c.session_id, state: c.state, count: Number(c.n) })),
    gates: gates.map((g) => ({ task: g.task, kind: g.kind, command: g.command, attempt: g.attempt, state: g.state, exitCode: g.exit_code, startedAt: g.started_at, durationMs: g.duration_ms })),
    tasks,
    usage: await latestUsageBySession(db),
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

/** Reads what the report needs from the ledger's rollups and computes it, streaming the few events it still reads. */
export async function buildReport(db: Ledger, options: ReportOptions = {}): Promise<Report> {
  const ctx = await readReportContext(db, options);
  const plan = await readRollupPlan(db, ctx);
  const fold = new ReportFold({ ...ctx, seeds: plan.seeds });
  for await (const e of mergeByTime(streamProjectedEvents(db, PAGE), streamStatusEvents(db, plan.replay, PAGE))) fold.add(e);
  const report = withHostFigures(fold.finish(), await readReportHosts(db));
  return plan.compactedBefore === null ? report : { ...report, compactedBefore: plan.compactedBefore };
}

/** Two streams each in (`at`, `id`) order, merged in that order. */
async function* mergeByTime(a: AsyncGenerator<RollupEvent>, b: AsyncGenerator<RollupEvent>): AsyncGenerator<RollupEvent> {
  let [x, y] = [await a.next(), await b.next()];
  while (!x.done || !y.done) {
    const takeX = y.done || (!x.done && (x.value.at < y.value.at || (x.value.at === y.value.at && x.value.id < y.value.id)));
    if (takeX) {
      yield x.value as RollupEvent;
      x = await a.next();
    } else {
      yield y.value as RollupEvent;
      y = await b.next();
    }
  }
}
