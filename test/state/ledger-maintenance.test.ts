import SqliteDatabase from "better-sqlite3";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { appendEvent } from "../../state/events.repository.js";
import { openLedger } from "../../state/ledger.js";
import { growLedger } from "../bench/ledger-scale.js";
import { runGaffer } from "../helpers/cli.js";
import { tempDir } from "../helpers/temp.js";

async function grownControlDir(events: number): Promise<string> {
  const dir = tempDir();
  const db = await openLedger(join(dir, ".gaffer", "ledger.sqlite"));
  await appendEvent(db, { actor: "cli:alice", action: "ApprovalCounted", subject: "stage/build", at: "2026-01-01T00:00:00.000Z" });
  await appendEvent(db, { actor: "controller", action: "MergeSucceeded", subject: "task/old", at: "2026-01-01T00:00:01.000Z" });
  await db.destroy();
  growLedger(join(dir, ".gaffer", "ledger.sqlite"), events, { spanDays: 10 });
  return dir;
}

const count = (file: string, where = "1 = 1"): number => {
  const db = new SqliteDatabase(file, { readonly: true });
  const n = (db.prepare(`select count(*) as n from events where ${where}`).get() as { n: number }).n;
  db.close();
  return n;
};

test("ledger stats counts rows and names the busiest actions", async () => {
  const dir = await grownControlDir(4_000);
  const result = await runGaffer(["ledger", "stats", "--dir", dir, "--json"]);
  expect(result.stderr).toBe("");
  const stats = JSON.parse(result.stdout);
  expect(stats.events.count).toBe(4_002);
  expect(stats.tables.events).toBe(4_002);
  expect(stats.tables.sessions).toBeGreaterThan(50);
  expect(stats.events.oldest).toBe("2026-01-01T00:00:00.000Z");
  expect(stats.events.topActions[0]).toEqual({ action: "SessionStatusChanged", count: expect.any(Number) });
});

test("ledger compact archives everything first, then deletes old events but keeps approvals, commits and merges", async () => {
  const dir = await grownControlDir(6_000);
  const file = join(dir, ".gaffer", "ledger.sqlite");
  const cutoff = new Date(Date.now() - 5 * 86_400_000).toISOString();
  const older = count(file, `at < '${cutoff}'`);
  const keptOld = count(file, `at < '${cutoff}' and (action like 'Merge%' or action like 'Approval%')`);
  expect(older).toBeGreaterThan(1_000);
  const archive = join(dir, "archive.sqlite");
  const result = await runGaffer(["ledger", "compact", "--before", "5d", "--archive", archive, "--dir", dir, "--json"]);
  expect(result.stderr).toBe("");
  const compacted = JSON.parse(result.stdout);
  expect(compacted).toMatchObject({ archive, deleted: older - keptOld, kept: keptOld });
  expect(count(archive)).toBe(6_002);
  expect(count(file, `at < '${cutoff}' and action = 'SessionStatusChanged'`)).toBe(0);
  expect(count(file, "action = 'ApprovalCounted'")).toBe(1);
  expect(count(file, "action = 'LedgerCompacted'")).toBe(1);
  expect(compacted.remaining).toBe(count(file));
  const again = await runGaffer(["ledger", "compact", "--before", "5d", "--archive", archive, "--dir", dir]);
  expect(again.exitCode).toBe(1);
  expect(again.stderr).toContain(`${archive} already exists; name a new --archive file`);
  expect(existsSync(archive)).toBe(true);
});

test("gaffer log streams every event as valid JSON and pages with --after", async () => {
  const dir = await grownControlDir(3_000);
  const all = await runGaffer(["log", "--dir", dir, "--json"]);
  const events = JSON.parse(all.stdout) as { id: number }[];
  expect(events).toHaveLength(3_002);
  expect(events.map((e) => e.id)).toEqual([...events.map((e) => e.id)].sort((a, b) => a - b));
  const page = await runGaffer(["log", "--dir", dir, "--json", "--after", String(events[2_990]!.id)]);
  expect((JSON.parse(page.stdout) as { id: number }[]).map((e) => e.id)).toEqual(events.slice(2_991).map((e) => e.id));
  const none = await runGaffer(["log", "--dir", dir, "--json", "--action", "NoSuchAction"]);
  expect(JSON.parse(none.stdout)).toEqual([]);
});
