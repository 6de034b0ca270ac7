import { sql, type Kysely } from "kysely";
import { dialectOf } from "../dialect.js";
import { backfillReportRollups } from "../report-rollups-backfill.js";

/** The report's events other than screen status changes, projected as they are inserted (controller/report/report-fold.ts lists them). */
export const PROJECTED_ACTIONS: readonly string[] = ["StagePhaseChanged", "TaskPhaseChanged", "Paused", "Resumed", "MergeStarted", "CapacityWait", "CapacityReserved"];

const actionList = (): string => PROJECTED_ACTIONS.map((a) => `'${a}'`).join(", ");
const SQLITE_TIME = "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z'";
const PG_TIME = String.raw`'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$'`;

/**
 * The report's rollups (state/report-rollups.table.ts), written by triggers
 * on `events` in the inserting statement's own transaction (so every writer,
 * batch inserts and copies included, keeps them in step), and backfilled
 * from the ledger's existing events inside this migration's transaction.
 * The status rule is `stepStatusHead` (state/session-status-rollup.ts).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createTable("report_events")
    .addColumn("id", "bigint", (c) => c.primaryKey())
    .addColumn("at", "text", (c) => c.notNull())
    .addColumn("action", "text", (c) => c.notNull())
    .addColumn("subject", "text", (c) => c.notNull())
    .addColumn("to_state", "text")
    .addColumn("role", "text")
    .execute();
  await db.schema.createIndex("report_events_at").on("report_events").columns(["at", "id"]).execute();
  await db.schema.createIndex("report_events_action").on("report_events").columns(["action", "at", "id"]).execute();
  await db.schema.createTable("session_status_heads")
    .addColumn("session_id", "text", (c) => c.primaryKey())
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("since", "text", (c) => c.notNull())
    .addColumn("first_at", "text", (c) => c.notNull())
    .addColumn("first_since", "text", (c) => c.notNull())
    .addColumn("last_at", "text", (c) => c.notNull())
    .addColumn("irregular", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createTable("session_status_totals")
    .addColumn("session_id", "text", (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("ms", "bigint", (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint("session_status_totals_pk", ["session_id", "state"])
    .execute();
  if (dialectOf(db).kind === "sqlite") await sqliteTriggers(db);
  else await postgresTriggers(db);
  await backfillReportRollups(db, PROJECTED_ACTIONS);
}

async function sqliteTriggers(db: Kysely<any>): Promise<void> {
  await sql.raw(`create trigger events_report_projection after insert on events
    when new.action in (${actionList()}) and json_valid(new.payload)
    begin
      insert into report_events (id, at, action, subject, to_state, role)
      values (new.id, new.at, new.action, new.subject, json_extract(new.payload, '$.to'), json_extract(new.payload, '$.role'));
    end`).execute(db);
  const raw = "(case when json_type(new.payload, '$.since') = 'text' then json_extract(new.payload, '$.since') else new.at end)";
  const odd = `(${raw} not glob ${SQLITE_TIME} or new.at not glob ${SQLITE_TIME} or coalesce(json_type(new.payload, '$.to'), '') <> 'text')`;
  await sql.raw(`create trigger events_session_status_rollup after insert on events
    when new.action = 'SessionStatusChanged' and substr(new.subject, 1, 8) = 'session/' and json_valid(new.payload)
    begin
      insert into session_status_totals (session_id, state, ms)
        select h.session_id, h.state, coalesce(cast(round((julianday(${raw}) - julianday(h.since)) * 86400000.0) as integer), 0)
        from session_status_heads h where h.session_id = substr(new.subject, 9) and ${raw} > h.since
        on conflict (session_id, state) do update set ms = ms + excluded.ms;
      insert into session_status_heads (session_id, state, since, first_at, first_since, last_at, irregular)
        values (substr(new.subject, 9), coalesce(json_extract(new.payload, '$.to'), ''), ${raw}, new.at, ${raw}, new.at, ${odd})
        on conflict (session_id) do update set state = excluded.state, since = max(since, excluded.since), last_at = max(last_at, excluded.last_at),
          irregular = max(irregular, excluded.irregular, excluded.last_at < last_at);
    end`).execute(db);
}

async function postgresTriggers(db: Kysely<any>): Promise<void> {
  await sql.raw(`create function gaffer_jsonb_or_null(t text) returns jsonb language plpgsql immutable as $$
    begin return t::jsonb; exception when others then return null; end $$`).execute(db);
  await sql.raw(`create function gaffer_ms_between(a text, b text) returns bigint language plpgsql immutable as $$
    begin return round(extract(epoch from (a::timestamptz - b::timestamptz)) * 1000)::bigint; exception when others then return 0; end $$`).execute(db);
  await sql.raw(`create function gaffer_report_rollup() returns trigger language plpgsql as $$
    declare p jsonb; r text; odd boolean; sid text;
    begin
      p := gaffer_jsonb_or_null(new.payload);
      if p is null or jsonb_typeof(p) <> 'object' then return null; end if;
      if new.action in (${actionList()}) then
        insert into report_events (id, at, action, subject, to_state, role) values (new.id, new.at, new.action, new.subject, p->>'to', p->>'role');
      elsif new.action = 'SessionStatusChanged' and left(new.subject, 8) = 'session/' then
        sid := substr(new.subject, 9);
        r := case when jsonb_typeof(p->'since') = 'string' then p->>'since' else new.at end;
        odd := r !~ ${PG_TIME} or new.at !~ ${PG_TIME} or coalesce(jsonb_typeof(p->'to'), '') <> 'string';
        insert into session_status_totals (session_id, state, ms)
          select h.session_id, h.state, gaffer_ms_between(r, h.since)
          from session_status_heads h where h.session_id = sid and r > h.since collate "C"
          on conflict (session_id, state) do update set ms = session_status_totals.ms + excluded.ms;
        insert into session_status_heads (session_id, state, since, first_at, first_since, last_at, irregular)
          values (sid, coalesce(p->>'to', ''), r, new.at, r, new.at, case when odd then 1 else 0 end)
          on conflict (session_id) do update set state = excluded.state,
            since = greatest(session_status_heads.since collate "C", excluded.since collate "C"),
            last_at = greatest(session_status_heads.last_at collate "C", excluded.last_at collate "C"),
            irregular = greatest(session_status_heads.irregular, excluded.irregular, case when excluded.last_at < session_status_heads.last_at collate "C" then 1 else 0 end);
      end if;
      return null;
    end $$`).execute(db);
  await sql.raw("create trigger events_report_rollup after insert on events for each row execute procedure gaffer_report_rollup()").execute(db);
}
