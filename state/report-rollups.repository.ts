import { sql } from "kysely";
import { selectArrays } from "./array-rows.js";
import { dialectOf } from "./dialect.js";
import type { Ledger } from "./ledger.js";
import type { StatusHead } from "./session-status-rollup.js";

/** An event as the report reads it: only the payload fields it uses. */
export interface RollupEvent {
  readonly id: number;
  readonly at: string;
  readonly action: string;
  readonly subject: string;
  readonly payload: Readonly<Record<string, unknown>>;
}

/** One session's screen-status rollup: its head and the totals of its closed stretches (ms by status). */
export interface SessionStatusRollup {
  readonly head: StatusHead;
  readonly totals: Readonly<Record<string, number>>;
}

/** Every session's rollup, by session id (one row per session and one per status it was in). */
export async function readSessionRollups(db: Ledger): Promise<Map<string, SessionStatusRollup>> {
  const heads = await db.selectFrom("session_status_heads").selectAll().execute();
  const totals = new Map<string, Record<string, number>>();
  for (const t of await db.selectFrom("session_status_totals").selectAll().execute()) {
    const of = totals.get(t.session_id) ?? {};
    of[t.state] = Number(t.ms);
    totals.set(t.session_id, of);
  }
  const out = new Map<string, SessionStatusRollup>();
  for (const h of heads) {
    const head: StatusHead = { state: h.state, since: h.since, firstAt: h.first_at, firstSince: h.first_since, lastAt: h.last_at, irregular: Number(h.irregular) !== 0 };
    out.set(h.session_id, { head, totals: totals.get(h.session_id) ?? {} });
  }
  return out;
}

/** `Paused` and `Resumed` events, oldest first (few: a person pauses). */
export async function readPauseEvents(db: Ledger): Promise<RollupEvent[]> {
  const rows = await selectArrays<ProjectedRow>(db, db.selectFrom("report_events").select(PROJECTED_COLUMNS).where("action", "in", ["Paused", "Resumed"]).orderBy("at").orderBy("id"));
  return rows.map(projected);
}

/** The columns of a projected event, and one as an array row in that order. */
const PROJECTED_COLUMNS = ["id", "at", "action", "subject", "to_state", "role"] as const;
type ProjectedRow = readonly [id: number | string, at: string, action: string, subject: string, toState: string | null, role: string | null];

function projected([id, at, action, subject, to, role]: ProjectedRow): RollupEvent {
  return { id: Number(id), at, action, subject, payload: { to, role } };
}

/**
 * The projected report events (every report action but status changes), oldest first, a page at a time, in
 * keyset pages along report_events_at (array rows: ~100k of a million-event ledger). A `CapacityReserved`
 * is read only for a task that ever waited for capacity: it matters only as the end of a `CapacityWait`
 * (most reservations never waited).
 */
export async function* streamProjectedEventPages(db: Ledger, pageSize = 5000): AsyncGenerator<readonly RollupEvent[]> {
  let after: { at: string; id: number } | null = null;
  for (;;) {
    let q = db.selectFrom("report_events").select(PROJECTED_COLUMNS)
      .where((eb) => eb.or([eb("action", "<>", "CapacityReserved"), eb("subject", "in", eb.selectFrom("report_events as w").select("w.subject").where("w.action", "=", "CapacityWait"))]));
    if (after !== null) q = q.where(sql<boolean>`(at, id) > (${after.at}, ${after.id})`);
    const rows = await selectArrays<ProjectedRow>(db, q.orderBy("at").orderBy("id").limit(pageSize));
    yield rows.map(projected);
    if (rows.length < pageSize) return;
    const last = rows.at(-1)!;
    after = { at: last[1], id: Number(last[0]) };
  }
}

/** Past this many sessions, one walk along events_at (filtering in memory) beats naming them all in the query. */
const MAX_NAMED = 1000;

/** A status change as an array row: id, at, action, subject, and the payload's to, role and since. */
type StatusRow = readonly [id: number | string, at: string, action: string, subject: string, to: string | null, role: string | null, since: string | null];

/**
 * The `SessionStatusChanged` events of the given sessions, oldest first, a
 * page at a time, in keyset pages: along events_subject for a few sessions,
 * else along events_at.
 */
export async function* streamStatusEventPages(db: Ledger, sessionIds: readonly string[], pageSize = 5000): AsyncGenerator<readonly RollupEvent[]> {
  if (sessionIds.length === 0) return;
  const dialect = dialectOf(db);
  const json = (key: string) => dialect.jsonText("payload", key);
  const subjects = sessionIds.map((id) => `session/${id}`);
  const wanted = new Set(subjects);
  let after: { at: string; id: number } | null = null;
  for (;;) {
    // NOTE: `+action` keeps the planner off events_action: on events_subject for a few sessions, else walking events_at in order.
    let q = db.selectFrom("events").select(["id", "at", "action", "subject", json("to").as("to"), json("role").as("role"), json("since").as("since")])
      .where(dialect.unindexed("action"), "=", "SessionStatusChanged");
    if (subjects.length <= MAX_NAMED) q = q.where("subject", "in", subjects);
    if (after !== null) q = q.where(sql<boolean>`(at, id) > (${after.at}, ${after.id})`);
    const rows = await selectArrays<StatusRow>(db, q.orderBy("at").orderBy("id").limit(pageSize));
    const page: RollupEvent[] = [];
    for (const [id, at, action, subject, to, role, since] of rows) {
      if (wanted.has(subject)) page.push({ id: Number(id), at, action, subject, payload: { to, role, ...(since === null ? {} : { since }) } });
    }
    yield page;
    if (rows.length < pageSize) return;
    const last = rows.at(-1)!;
    after = { at: last[1], id: Number(last[0]) };
  }
}

/** The latest `before` of `gaffer ledger compact` (events older than it may be gone), or null. */
export async function readCompactedBefore(db: Ledger): Promise<string | null> {
  const rows = await db.selectFrom("events").select(dialectOf(db).jsonText("payload", "before").as("before")).where("action", "=", "LedgerCompacted").execute();
  const befores = rows.map((r) => r.before).filter((b): b is string => typeof b === "string").sort();
  return befores.at(-1) ?? null;
}
