/**
 * The report from the ledger's rollups (migration 0019) against the report
 * folding every event, on both backends, for a seeded generated history
 * (the seed is printed; GAFFER_TEST_SEED replays one); the backfill of an
 * existing ledger; a migration that dies half way; compaction keeping the sums.
 */
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { readReportContext, readRollupPlan } from "../../controller/report/report-build.js";
import { buildReport, buildReportFromEvents } from "../../controller/report/report.js";
import { compactLedger } from "../../state/ledger-maintenance.repository.js";
import { openLedger, type Ledger } from "../../state/ledger.js";
import { streamStatusEventPages } from "../../state/report-rollups.repository.js";
import { MIGRATIONS } from "../../state/migrations/index.js";
import { PROJECTED_ACTIONS } from "../../state/migrations/0019_report_rollups.js";
import { REPORT_ACTIONS } from "../../controller/report/report-fold.js";
import { BACKENDS, newLedgerLocation, openLocation } from "../helpers/ledger-backends.js";
import { tempDir } from "../helpers/temp.js";
import { generateHistory, writeHistory } from "./rollup-fixture.js";

const SEED = Number(process.env.GAFFER_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));
const BEFORE_ROLLUPS = Object.fromEntries(Object.entries(MIGRATIONS).filter(([name]) => name < "0019"));

async function rollupRows(db: Ledger): Promise<unknown[]> {
  const heads = await db.selectFrom("session_status_heads").selectAll().orderBy("session_id").execute();
  const totals = await db.selectFrom("session_status_totals").selectAll().orderBy("session_id").orderBy("state").execute();
  const projected = await db.selectFrom("report_events").selectAll().orderBy("id").execute();
  const norm = (rows: Record<string, unknown>[]) => rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === "string" && /^\d+$/.test(v) && (k === "ms" || k === "id") ? Number(v) : v])));
  return [norm(heads), norm(totals), norm(projected)];
}

describe.each(BACKENDS)("the report's rollups on %s", (backend) => {
  test("a report from the rollups equals the report folding every event (seeded history, most sessions from rollups)", async () => {
    console.log(`report rollups on ${backend}: seed ${SEED} (GAFFER_TEST_SEED=${SEED} replays it)`);
    const history = generateHistory(SEED, 700);
    const db = await openLocation(await newLedgerLocation(backend));
    try {
      await writeHistory(db, history);
      for (const stage of [undefined, "build"]) {
        const options = { now: history.now, ...(stage === undefined ? {} : { stage }) };
        expect(await buildReport(db, options)).toEqual(await buildReportFromEvents(db, options));
      }
      // Not trivially equal: most sessions are past the timeline's lanes and were read from their rollup rows.
      const heads = await db.selectFrom("session_status_heads").select(["session_id", "irregular"]).execute();
      expect(heads.length).toBeGreaterThan(650);
      expect(heads.filter((h) => Number(h.irregular) === 1).length).toBeGreaterThan(0);
      const plan = await readRollupPlan(db, await readReportContext(db, { now: history.now }));
      expect(plan.seeds.size).toBeGreaterThan(200);
      // ~60% replayed: the 300 drawn, and the sessions whose changes came late or out of order.
      expect(plan.replay.length).toBeLessThan(heads.length * 0.7);
      // Replaying many sessions (a long pause over a busy fleet) walks the time index instead of naming them: the same events.
      const ids = (await db.selectFrom("sessions").select("id").execute()).map((r) => r.id);
      const read = async (of: string[]) => {
        const out: unknown[] = [];
        for await (const page of streamStatusEventPages(db, of, 97)) out.push(...page);
        return out;
      };
      const named = await read(ids);
      expect(named.length).toBeGreaterThan(3000);
      expect(await read([...ids, ...Array.from({ length: 400 }, (_, i) => `absent-${i}`)])).toEqual(named);
    } finally {
      await db.destroy();
    }
  });

  test("migration 0019 backfills an existing ledger: the same rollup rows the triggers write, and the same report", async () => {
    const history = generateHistory(SEED + 1, 400);
    const old = await newLedgerLocation(backend);
    const before = await openLocation(old, { migrations: BEFORE_ROLLUPS });
    await writeHistory(before, history);
    await before.destroy();
    const upgraded = await openLocation(old);
    const live = await openLocation(await newLedgerLocation(backend));
    try {
      await writeHistory(live, history);
      expect(await rollupRows(upgraded)).toEqual(await rollupRows(live));
      expect(await buildReport(upgraded, { now: history.now })).toEqual(await buildReportFromEvents(upgraded, { now: history.now }));
    } finally {
      await upgraded.destroy();
      await live.destroy();
    }
  });
});

describe("the report's rollups and the ledger's maintenance (SQLite)", () => {
  test("the ledger projects every action the report reads but status changes (which it rolls up): a new one needs a migration", () => {
    expect([...PROJECTED_ACTIONS, "SessionStatusChanged"].sort()).toEqual([...REPORT_ACTIONS].sort());
  });

  test("a 0019 that dies after its backfill leaves the ledger at 0018, and the next open applies it once", async () => {
    const file = join(tempDir(), "ledger.sqlite");
    const history = generateHistory(SEED + 2, 50);
    const before = await openLedger(file, { migrations: BEFORE_ROLLUPS });
    await writeHistory(before, history);
    await before.destroy();
    const dying = { ...MIGRATIONS, "0019_report_rollups": { up: async (db: never) => {
      await MIGRATIONS["0019_report_rollups"]!.up(db);
      throw new Error("killed after the backfill");
    } } };
    await expect(openLedger(file, { migrations: dying })).rejects.toThrow(/migration 0019_report_rollups failed on .*: killed after the backfill/);
    const reopened = await openLedger(file, { migrations: BEFORE_ROLLUPS });
    expect((await reopened.selectFrom("events").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow()).n).toBe(history.rows.length);
    await reopened.destroy();
    const db = await openLedger(file);
    try {
      expect(await buildReport(db, { now: history.now })).toEqual(await buildReportFromEvents(db, { now: history.now }));
      expect(Number((await db.selectFrom("session_status_heads").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow()).n)).toBeGreaterThan(40);
    } finally {
      await db.destroy();
    }
  });

  test("compaction drops events, not the sums: sessions read from rollups keep their figures, phases and waits stay, and the report says what was compacted", async () => {
    const history = generateHistory(SEED + 3, 500);
    const dir = tempDir();
    const db = await openLedger(join(dir, "ledger.sqlite"));
    try {
      await writeHistory(db, history);
      const full = await buildReport(db, { now: history.now });
      const exact = (await readRollupPlan(db, await readReportContext(db, { now: history.now }))).seeds;
      const cut = history.rows[Math.floor(history.rows.length / 2)]!.event.at;
      const result = await compactLedger(db, { before: cut, archive: join(dir, "archive.sqlite"), actor: "test" });
      expect(result.deleted).toBeGreaterThan(1000);
      const after = await buildReport(db, { now: history.now });
      expect(after.compactedBefore).toBe(cut);
      expect(after.taskPhases).toEqual(full.taskPhases);
      expect(after.stages).toEqual(full.stages);
      expect(after.bottlenecks).toEqual(full.bottlenecks);
      // Every session keeps its lifetime; those read from their rollups before the compaction keep every figure.
      const byId = new Map(after.sessions.map((s) => [s.id, s]));
      const same = full.sessions.filter((s) => exact.has(s.id));
      expect(same.length).toBeGreaterThan(100);
      for (const s of full.sessions) expect(byId.get(s.id)!.lifetimeMs).toBe(s.lifetimeMs);
      for (const s of same) expect(byId.get(s.id)).toEqual(s);
    } finally {
      await db.destroy();
    }
  });
});
