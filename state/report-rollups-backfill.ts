import { sql, type Kysely } from "kysely";
import { dialectOf } from "./dialect.js";
import { stepStatusHead, type StatusHead } from "./session-status-rollup.js";

/** Rows per read and per multi-row insert. */
const PAGE = 5000;

/**
 * Fills the report's rollups from the events already in the ledger (run by
 * migration 0019 inside its transaction: a kill leaves the ledger as it was).
 * The projection is one INSERT ... SELECT; the status heads and totals are
 * folded in ledger order (`stepStatusHead`, the rule of the trigger),
 * reading the status events in keyset pages along events_action; memory
 * holds one head and a few totals per session.
 */
export async function backfillReportRollups(db: Kysely<any>, actions: readonly string[]): Promise<void> {
  const dialect = dialectOf(db);
  const json = (key: string) => dialect.jsonText("payload", key);
  const valid = dialect.kind === "sqlite" ? sql<boolean>`json_valid(payload)` : sql<boolean>`gaffer_jsonb_or_null(payload) is not null`;
  await db.insertInto("report_events")
    .columns(["id", "at", "action", "subject", "to_state", "role"])
    .expression(db.selectFrom("events").select(["id", "at", "action", "subject", json("to").as("to_state"), json("role").as("role")]).where("action", "in", actions).where(valid))
    .execute();
  const folder = new HeadFolder();
  let after = 0;
  for (;;) {
    const rows: { id: number; at: string; subject: string; to: unknown; since: unknown; to_type: string | null; since_type: string | null }[] = await db.selectFrom("events")
      .select(["id", "at", "subject", json("to").as("to"), json("since").as("since"), typeOf(dialect.kind, "to").as("to_type"), typeOf(dialect.kind, "since").as("since_type")])
      .where("action", "=", "SessionStatusChanged").where("id", ">", after).where(valid)
      .orderBy("id").limit(PAGE).execute();
    for (const r of rows) {
      if (!r.subject.startsWith("session/")) continue;
      folder.add(r.subject.slice(8), { at: r.at, to: r.to_type === "string" ? r.to : r.to === null ? undefined : 0, since: r.since_type === "string" ? r.since : undefined });
    }
    if (rows.length < PAGE) break;
    after = Number(rows.at(-1)!.id);
  }
  await folder.write(db);
}

/** The JSON type of a payload field, named `string` for text on both backends. */
function typeOf(kind: "sqlite" | "postgres", key: string) {
  return kind === "sqlite"
    ? sql<string | null>`(case json_type(payload, ${`$.${key}`}) when 'text' then 'string' else json_type(payload, ${`$.${key}`}) end)`
    : sql<string | null>`jsonb_typeof(gaffer_jsonb_or_null(payload) -> ${key})`;
}

/** Folds status changes per session (in ledger order) in memory: one head and a few totals per session, never the events. */
class HeadFolder {
  private readonly sessions = new Map<string, { head: StatusHead; totals: Map<string, number> }>();

  add(sessionId: string, change: { at: string; to: unknown; since: unknown }): void {
    const current = this.sessions.get(sessionId);
    const step = stepStatusHead(current?.head, change);
    const totals = current?.totals ?? new Map<string, number>();
    if (step.add !== null) totals.set(step.add.state, (totals.get(step.add.state) ?? 0) + (Number.isFinite(step.add.ms) ? step.add.ms : 0));
    this.sessions.set(sessionId, { head: step.head, totals });
  }

  /** Inserts every head and total, 500 rows a statement. */
  async write(db: Kysely<any>): Promise<void> {
    const heads: Record<string, unknown>[] = [];
    const totals: Record<string, unknown>[] = [];
    for (const [id, { head, totals: of }] of this.sessions) {
      heads.push({ session_id: id, state: head.state, since: head.since, first_at: head.firstAt, first_since: head.firstSince, last_at: head.lastAt, irregular: head.irregular ? 1 : 0 });
      for (const [state, ms] of of) totals.push({ session_id: id, state, ms });
    }
    for (let i = 0; i < heads.length; i += 500) await db.insertInto("session_status_heads").values(heads.slice(i, i + 500)).execute();
    for (let i = 0; i < totals.length; i += 500) await db.insertInto("session_status_totals").values(totals.slice(i, i + 500)).execute();
  }
}
