/**
 * `gaffer report --json` holds a page of sessions at a time, never the whole
 * report: its live heap is the same for a ledger four times larger, and the
 * JSON it writes in pieces is byte for byte the report's JSON.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { buildReport, buildReportFromEvents, streamReport, writeReportJson } from "../../controller/report/report.js";
import { LEDGER_FILE, openLedger, type Ledger } from "../../state/ledger.js";
import { tempDir } from "../helpers/temp.js";
import { growSessions } from "./session-scale.js";

const NOW = new Date().toISOString();
const PAGE = 250;

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** Live heap (MB, after a full collection). */
function liveHeapMb(): number {
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

/** The most the live heap grew while the report streamed (sampled every `PAGE / 2` sessions), and how many sessions it gave. */
async function peakWhileReporting(db: Ledger): Promise<{ growthMb: number; sessions: number }> {
  const before = liveHeapMb();
  let peak = before;
  let sessions = 0;
  const sample = (): void => void (peak = Math.max(peak, liveHeapMb()));
  await streamReport(db, { now: NOW, pageSize: PAGE }, { head: sample, session: () => void (++sessions % (PAGE / 2) === 0 && sample()), tail: sample });
  return { growthMb: peak - before, sessions };
}

describe("the report's memory does not grow with the ledger", () => {
  it("the live heap while reporting 6,000 sessions stays within that of 1,500 (a page of sessions at a time)", async () => {
    const file = join(tempDir("gaffer-report-memory-"), LEDGER_FILE);
    await (await openLedger(file)).destroy();
    growSessions(file, 1500);
    let db = await openLedger(file);
    const small = await peakWhileReporting(db);
    await db.destroy();
    growSessions(file, 4500);
    db = await openLedger(file);
    onTestFinished(() => db.destroy());
    const large = await peakWhileReporting(db);
    console.log(`report live heap growth: ${small.growthMb.toFixed(1)} MB at ${small.sessions} sessions, ${large.growthMb.toFixed(1)} MB at ${large.sessions} sessions`);
    expect([small.sessions, large.sessions]).toEqual([1500, 6000]);
    // Holding only the rows written (SessionUsage objects) would grow it by ~0.4 KB a session: 1.8 MB more here.
    expect(large.growthMb).toBeLessThan(small.growthMb + 1);
    expect(large.growthMb).toBeLessThan(8);
  }, 60_000);

  it("writes byte for byte JSON.stringify(report, null, 2) of the report that folds every event", async () => {
    const file = join(tempDir("gaffer-report-memory-"), LEDGER_FILE);
    await (await openLedger(file)).destroy();
    growSessions(file, 700);
    const db = await openLedger(file);
    onTestFinished(() => db.destroy());
    const options = { now: NOW, project: "p", pageSize: 97 };
    let text = "";
    let drains = 0;
    // A reader that takes each piece but asks to wait every time: the writer waits for `drain` after each page.
    await writeReportJson(db, options, { write: (piece) => ((text += piece), false), once: (_event, resume) => void (drains++, setImmediate(resume)) });
    expect(drains).toBeGreaterThan(3);
    expect(text).toBe(`${JSON.stringify(await buildReportFromEvents(db, options), null, 2)}\n`);
    expect(JSON.parse(text)).toEqual(await buildReport(db, { ...options, pageSize: 4000 }));
    // The capacity waits count (the reservations that ended them are read; the many that never waited are not).
    const capacity = (JSON.parse(text) as { bottlenecks: { key: string; ms: number; count: number }[] }).bottlenecks.find((b) => b.key === "capacity")!;
    expect([capacity.ms, capacity.count]).toEqual([70 * 2_000, 70]);
  });
});
