import type { Ledger } from "./ledger.js";
import { nowIso } from "./ledger.js";

/** An audit event, as the rest of gaffer sees it. */
export interface LedgerEvent {
  readonly id: number;
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly subject: string;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly commitSha: string | null;
}

export interface NewEvent {
  readonly actor: string;
  readonly action: string;
  readonly subject: string;
  readonly payload?: Readonly<Record<string, unknown>>;
  readonly commitSha?: string | null;
  /** Defaults to now. */
  readonly at?: string;
}

/** Appends one event; call it inside the transaction of the state change it records. */
export async function appendEvent(db: Ledger, event: NewEvent): Promise<number> {
  const row = await db
    .insertInto("events")
    .values({
      at: event.at ?? nowIso(),
      actor: event.actor,
      action: event.action,
      subject: event.subject,
      payload: JSON.stringify(event.payload ?? {}),
      commit_sha: event.commitSha ?? null,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  return row.id;
}

/** Appends many events with one multi-row insert (hot paths). */
export async function appendEvents(db: Ledger, events: readonly NewEvent[]): Promise<void> {
  if (events.length === 0) return;
  const at = nowIso();
  const rows = events.map((e) => ({
    at: e.at ?? at,
    actor: e.actor,
    action: e.action,
    subject: e.subject,
    payload: JSON.stringify(e.payload ?? {}),
    commit_sha: e.commitSha ?? null,
  }));
  // SQLite allows 32766 bound variables; 6 per row.
  for (let i = 0; i < rows.length; i += 5000) await db.insertInto("events").values(rows.slice(i, i + 5000)).execute();
}

export interface EventQuery {
  /** Only events at or after this ISO time. */
  readonly since?: string;
  /** Only events whose subject equals this, or starts with it followed by `/`. */
  readonly subject?: string;
  readonly action?: string;
  /** Most recent N (still returned oldest first). */
  readonly limit?: number;
  /** Only events with an id above this (a cursor for paging). */
  readonly afterId?: number;
}

function eventQuery(db: Ledger, query: EventQuery) {
  let q = db.selectFrom("events").selectAll();
  if (query.since !== undefined) q = q.where("at", ">=", query.since);
  if (query.subject !== undefined) {
    const subject = query.subject;
    q = q.where((eb) => eb.or([eb("subject", "=", subject), eb("subject", "like", `${subject.replace(/[%_]/g, "")}/%`)]));
  }
  if (query.action !== undefined) q = q.where("action", "=", query.action);
  if (query.afterId !== undefined) q = q.where("id", ">", query.afterId);
  return q;
}

type EventRow = { id: number; at: string; actor: string; action: string; subject: string; payload: string; commit_sha: string | null };

function toEvent(r: EventRow): LedgerEvent {
  return { id: r.id, at: r.at, actor: r.actor, action: r.action, subject: r.subject, payload: JSON.parse(r.payload) as Record<string, unknown>, commitSha: r.commit_sha };
}

/** The smallest id among events at or after `since` (null: none), read from the events_at index. */
async function firstIdSince(db: Ledger, since: string): Promise<number | null> {
  const recent = db.selectFrom("events").select("id").where("at", ">=", since).orderBy("at").as("recent");
  const row = await db.selectFrom(recent).select((eb) => eb.fn.min("recent.id").as("id")).executeTakeFirst();
  return row?.id === null || row?.id === undefined ? null : Number(row.id);
}

export async function listEvents(db: Ledger, query: EventQuery = {}): Promise<LedgerEvent[]> {
  let q = eventQuery(db, query).orderBy("id", "desc");
  if (query.limit !== undefined) q = q.limit(query.limit);
  const rows = await q.execute();
  return rows.reverse().map(toEvent);
}

/**
 * The matching events oldest first, read in pages (by id, keyset) as the
 * caller consumes them: memory stays bounded whatever the ledger's size
 * (`gaffer log`), and no cursor is held open between pages (PostgreSQL's
 * driver has none without another package).
 */
export async function* streamEvents(db: Ledger, query: Omit<EventQuery, "limit"> = {}, pageSize = 500): AsyncGenerator<LedgerEvent> {
  let afterId = query.afterId;
  if (query.since !== undefined) {
    // Pages go by id: start at the first id of the span (found along events_at), not by walking every older event.
    const first = await firstIdSince(db, query.since);
    if (first === null) return;
    if (afterId === undefined || afterId < first - 1) afterId = first - 1;
  }
  for (;;) {
    const rows = await eventQuery(db, { ...query, ...(afterId === undefined ? {} : { afterId }) }).orderBy("id", "asc").limit(pageSize).execute();
    for (const row of rows) yield toEvent(row);
    if (rows.length < pageSize) return;
    afterId = rows.at(-1)!.id;
  }
}
