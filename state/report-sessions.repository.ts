/**
 * The report's sessions, read in keyset pages (oldest first: `created_at`,
 * then `id`) with what each one needs beside its row: its status rollup, its
 * latest reported token usage, its commands and its agent host. A page is
 * read by a few queries naming its sessions, so the report holds one page at
 * a time whatever the ledger's size.
 */
import { sql } from "kysely";
import type { TokenCounts } from "./agent-events.repository.js";
import { selectArrays } from "./array-rows.js";
import type { Ledger } from "./ledger.js";
import type { StatusHead } from "./session-status-rollup.js";

/** One session as the report reads it. */
export interface ReportSessionRecord {
  readonly id: string;
  readonly task: string | null;
  readonly stage: string | null;
  readonly role: string | null;
  readonly agent: string;
  readonly model: string | null;
  readonly createdAt: string;
  readonly closedAt: string | null;
  readonly restarts: number;
  /** The agent host its reservation named; null: this machine. */
  readonly host: string | null;
  /** Its screen-status rollup's head; null before its first status change. */
  readonly head: StatusHead | null;
}

/** One page of sessions and, by session id, what the page was asked to read with them. */
export interface ReportSessionPage {
  readonly sessions: readonly ReportSessionRecord[];
  /** The totals of each session's closed status stretches (ms by status), read only with `totals`. */
  readonly totals: ReadonlyMap<string, Readonly<Record<string, number>>>;
  /** The latest token usage each session reported (absent: none). */
  readonly usage: ReadonlyMap<string, TokenCounts>;
  /** Commands per session and state, in state order (read only with `commands`). */
  readonly commands: ReadonlyMap<string, ReadonlyMap<string, number>>;
}

/** What to read with each page beside the rows, heads and usage. */
export interface ReportSessionQuery {
  /** Only this stage's sessions. */
  readonly stage?: string;
  readonly totals?: boolean;
  readonly commands?: boolean;
  /** Only the sessions that reported a token usage. */
  readonly withUsage?: boolean;
  readonly pageSize?: number;
}

/** A session of a page as an array row: its columns, its reservation's host, its status head. */
type SessionRow = readonly [
  id: string, task: string | null, stage: string | null, role: string | null, agent: string, model: string | null, createdAt: string, closedAt: string | null, restarts: number, host: string | null,
  state: string | null, since: string | null, firstAt: string | null, firstSince: string | null, lastAt: string | null, irregular: number | string | null,
];

/** The report's sessions, oldest first, a page at a time (array rows: a million-event ledger has ~20k sessions). */
export async function* streamReportSessions(db: Ledger, query: ReportSessionQuery = {}): AsyncGenerator<ReportSessionPage> {
  // Small pages: what a page holds survives the collections that run while it is folded (4000: +30 MB peak at 1M events).
  const pageSize = query.pageSize ?? 500;
  let after: { readonly at: string; readonly id: string } | null = null;
  for (;;) {
    const from = after;
    // NOTE: the page is chosen first and joined after: joining before the sort would join every session for every page.
    let page = db.selectFrom("sessions").select(["id", "task", "stage", "role", "agent", "model", "created_at", "closed_at", "restarts", "reservation_id"]);
    if (query.stage !== undefined) page = page.where("stage", "=", query.stage);
    if (query.withUsage === true) page = page.where((eb) => eb.exists(eb.selectFrom("agent_events").select("agent_events.id").whereRef("agent_events.session_id", "=", "sessions.id").where("agent_events.usage", "is not", null)));
    if (from !== null) page = page.where(sql<boolean>`(created_at, id) > (${from.at}, ${from.id})`);
    const rows = await selectArrays<SessionRow>(db, db.selectFrom(page.orderBy("created_at").orderBy("id").limit(pageSize).as("s"))
      .leftJoin("reservations", "reservations.id", "s.reservation_id").leftJoin("session_status_heads as h", "h.session_id", "s.id")
      .select(["s.id", "s.task", "s.stage", "s.role", "s.agent", "s.model", "s.created_at", "s.closed_at", "s.restarts", "reservations.host"])
      .select(["h.state", "h.since", "h.first_at", "h.first_since", "h.last_at", "h.irregular"])
      .orderBy("s.created_at").orderBy("s.id"));
    if (rows.length === 0) return;
    const ids = rows.map((r) => r[0]);
    yield {
      sessions: rows.map(([id, task, stage, role, agent, model, createdAt, closedAt, restarts, host, state, since, firstAt, firstSince, lastAt, irregular]) => ({
        id, task, stage, role, agent, model, createdAt, closedAt, restarts, host: host ?? null,
        head: state === null ? null : { state, since: since!, firstAt: firstAt!, firstSince: firstSince!, lastAt: lastAt!, irregular: Number(irregular) !== 0 },
      })),
      totals: query.totals === true ? await readTotalsOf(db, ids) : new Map(),
      usage: await readUsageOf(db, ids),
      commands: query.commands === true ? await readCommandsOf(db, ids) : new Map(),
    };
    if (rows.length < pageSize) return;
    after = { at: rows.at(-1)![6], id: rows.at(-1)![0] };
  }
}

async function readTotalsOf(db: Ledger, ids: readonly string[]): Promise<Map<string, Record<string, number>>> {
  const totals = new Map<string, Record<string, number>>();
  const rows = await selectArrays<readonly [sessionId: string, state: string, ms: number | string]>(db, db.selectFrom("session_status_totals").select(["session_id", "state", "ms"]).where("session_id", "in", ids));
  for (const [sessionId, state, ms] of rows) {
    let of = totals.get(sessionId);
    if (of === undefined) totals.set(sessionId, (of = {}));
    of[state] = Number(ms);
  }
  return totals;
}

async function readUsageOf(db: Ledger, ids: readonly string[]): Promise<Map<string, TokenCounts>> {
  const rows = await db.selectFrom("agent_events").select(["session_id", "usage"]).where("session_id", "in", ids).where("usage", "is not", null).orderBy("id").execute();
  return new Map(rows.map((r) => [r.session_id, JSON.parse(r.usage!) as TokenCounts]));
}

async function readCommandsOf(db: Ledger, ids: readonly string[]): Promise<Map<string, Map<string, number>>> {
  const rows = await db.selectFrom("commands").select((eb) => ["session_id", "state", eb.fn.countAll<number>().as("n")])
    .where("session_id", "in", ids).groupBy(["session_id", "state"]).orderBy("session_id").orderBy("state").execute();
  const out = new Map<string, Map<string, number>>();
  for (const r of rows) {
    let of = out.get(r.session_id);
    if (of === undefined) out.set(r.session_id, (of = new Map()));
    of.set(r.state, Number(r.n));
  }
  return out;
}

/** How many sessions the report covers, per stage (`null`: sessions of no stage). */
export async function countReportSessions(db: Ledger, query: Pick<ReportSessionQuery, "stage">): Promise<Map<string | null, number>> {
  let q = db.selectFrom("sessions").select((eb) => ["stage", eb.fn.countAll<number | string>().as("n")]).groupBy("stage");
  if (query.stage !== undefined) q = q.where("stage", "=", query.stage);
  return new Map((await q.execute()).map((r) => [r.stage, Number(r.n)]));
}

/** Whether any session of the ledger ran on an agent host (then every report row names its host). */
export async function anySessionOnHost(db: Ledger): Promise<boolean> {
  // From the reservations (few columns; a ledger with no hosts has no row to look further for), not a walk of every session's row.
  const row = await db.selectFrom("reservations").select("reservations.id").where("reservations.host", "is not", null)
    .where((eb) => eb.exists(eb.selectFrom("sessions").select("sessions.id").whereRef("sessions.reservation_id", "=", "reservations.id"))).limit(1).executeTakeFirst();
  return row !== undefined;
}
