/**
 * The ledger's repositories on both backends (SQLite and PostgreSQL): one
 * suite, run once per backend, over what differs between them: generated
 * ids, JSON fields read in SQL, NULL-safe comparisons, upserts, write
 * transactions, counts, keyset paging and the report's queries.
 */
import { describe, expect, test } from "vitest";
import type { ApprovalJudgement } from "../../controller/core/approval-rules.js";
import { buildReport } from "../../controller/report/report.js";
import { listApprovalRecords, recordApprovalVerdicts } from "../../state/approvals.repository.js";
import { readCapacityUsage, releaseCapacity } from "../../state/capacity.repository.js";
import { reserveCapacity } from "../../controller/sessions/reserve-capacity.js";
import { claimControllerLease, readControllerLease, releaseControllerLease, renewControllerLease } from "../../state/controller-lease.repository.js";
import { clearPause, listPauses, setPause } from "../../state/controller.repository.js";
import { appendEvent, listEvents, streamEvents } from "../../state/events.repository.js";
import { immediateTransaction } from "../../state/ledger.js";
import { ledgerStats } from "../../state/ledger-maintenance.repository.js";
import { insertMemoryRecord, listMemoryRecords } from "../../state/memory.repository.js";
import { insertMerge, oldestQueuedMerge, readMergeLease, setMergeState, writeMergeLease } from "../../state/merges.repository.js";
import { createResolveJob, findResolveJob, resolveJobKey } from "../../state/resolve-jobs.repository.js";
import { BACKENDS, newLedger, newLedgerLocation, openLocation } from "../helpers/ledger-backends.js";

const judgement = (comment: string | null, sha: string | null): ApprovalJudgement => ({
  requestId: "req-1",
  status: "True",
  reason: "Granted",
  message: "approved",
  approvers: ["alice@example.com"],
  verdicts: [{ requestId: "req-1", decision: "approved", comment, line: 3, commit: sha === null ? null : { sha, authorEmail: "alice@example.com", authorName: "Alice" }, verdict: "Granted", message: "counts" }],
});

describe.each(BACKENDS)("the ledger's repositories on %s", (backend) => {
  test("events: generated ids in order, filters, and keyset pages that end exactly", async () => {
    const db = await newLedger(backend);
    const ids: number[] = [];
    for (let i = 0; i < 7; i++) ids.push(await appendEvent(db, { actor: "t", action: i % 2 === 0 ? "Even" : "Odd", subject: `task/a${i % 3 === 0 ? "/x" : ""}`, payload: { i } }));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect((await listEvents(db, { action: "Even" })).map((e) => e.payload.i)).toEqual([0, 2, 4, 6]);
    expect((await listEvents(db, { subject: "task/a" })).length).toBe(7);
    expect((await listEvents(db, { limit: 2 })).map((e) => e.payload.i)).toEqual([5, 6]);
    const streamed: unknown[] = [];
    for await (const e of streamEvents(db, {}, 3)) streamed.push(e.payload.i);
    expect(streamed).toEqual([0, 1, 2, 3, 4, 5, 6]);
    await db.destroy();
  });

  test("a write transaction is all or nothing", async () => {
    const db = await newLedger(backend);
    await expect(immediateTransaction(db, async (trx) => {
      await appendEvent(trx, { actor: "t", action: "Inside", subject: "x" });
      throw new Error("forced");
    })).rejects.toThrow("forced");
    expect(await listEvents(db)).toEqual([]);
    await db.destroy();
  });

  test("capacity: reserved up to the limit, then CAPACITY_EXCEEDED; released once", async () => {
    const db = await newLedger(backend);
    const limits = { global: 2, perAgent: { scripted: 10 }, perRole: {} };
    const request = { agent: "scripted", role: "builder", holder: "h", actor: "t" };
    const first = await reserveCapacity(db, limits, request);
    await reserveCapacity(db, limits, request);
    await expect(reserveCapacity(db, limits, request)).rejects.toThrow("global limit is 2 and 2 are in use; close a session (`gaffer session close ID`) or raise spec.capacity");
    expect((await readCapacityUsage(db)).global).toBe(2);
    expect(await releaseCapacity(db, first.id, "t")).toBe(true);
    expect(await releaseCapacity(db, first.id, "t")).toBe(false);
    expect((await listEvents(db, { action: "CapacityRefused" })).length).toBe(1);
    await db.destroy();
  });

  test("approvals: a verdict is recorded once, NULL comment and commit included; the grant event once (a JSON field in SQL)", async () => {
    const db = await newLedger(backend);
    expect(await recordApprovalVerdicts(db, { stage: "build", judgement: judgement(null, null), actor: "t" })).toBe(1);
    expect(await recordApprovalVerdicts(db, { stage: "build", judgement: judgement(null, null), actor: "t" })).toBe(0);
    expect(await recordApprovalVerdicts(db, { stage: "build", judgement: judgement("lgtm", "abc123"), actor: "t" })).toBe(1);
    expect((await listApprovalRecords(db, "build")).map((r) => [r.comment, r.commitSha])).toEqual([[null, null], ["lgtm", "abc123"]]);
    expect((await listEvents(db, { action: "ApprovalGranted" })).length).toBe(1);
    await db.destroy();
  });

  test("upserts: the controller lease, a merge lease, a pause, an effect that exists already", async () => {
    const db = await newLedger(backend);
    const claim = (holder: string) => claimControllerLease(db, { holder, pid: 1, host: "h", processStart: null, actor: "t" }, { ttlMs: 60_000, takeOver: () => "expired" });
    expect(await claim("a")).toMatchObject({ taken: true, previous: null });
    expect(await claim("b")).toMatchObject({ taken: true, previous: { holder: "a" } });
    expect(await renewControllerLease(db, "a", 1000)).toBe(false);
    expect(await renewControllerLease(db, "b", 1000)).toBe(true);
    await releaseControllerLease(db, "b", "t");
    expect(await readControllerLease(db)).toBeNull();

    const merge = await insertMerge(db, { task: "t1", branch: "b1", target: "main", strategy: "merge" });
    expect((await oldestQueuedMerge(db, "main"))?.id).toBe(merge.id);
    await setMergeState(db, merge.id, { state: "conflict", conflictedFiles: ["a.txt"] });
    await writeMergeLease(db, { target: "main", holder: "x", mergeId: merge.id, ttlMs: 1000 });
    await writeMergeLease(db, { target: "main", holder: "y", mergeId: null, ttlMs: 1000 });
    expect(await readMergeLease(db, "main")).toMatchObject({ holder: "y", mergeId: null });

    expect(await setPause(db, "task/t1", "t", null)).toBe(true);
    expect(await setPause(db, "task/t1", "t", "again")).toBe(false);
    expect([...(await listPauses(db))]).toEqual(["task/t1"]);
    expect(await clearPause(db, "task/t1", "t")).toBe(true);

    await createResolveJob(db, { task: "t1", round: 1, facts: { a: 1 } });
    await createResolveJob(db, { task: "t1", round: 1, facts: { a: 2 } });
    expect((await findResolveJob(db, resolveJobKey("t1", 1)))?.result).toEqual({ a: 1 });
    await db.destroy();
  });

  test("memory, stats (counts are numbers) and the report's JSON fields", async () => {
    const location = await newLedgerLocation(backend);
    const db = await openLocation(location);
    await insertMemoryRecord(db, { kind: "decision", title: "use kysely", stage: null, task: null, author: "alice", created: "2026-01-01T00:00:00.000Z", path: "memory/x.md" }, "t");
    expect((await listMemoryRecords(db, { kind: "decision" })).map((m) => m.title)).toEqual(["use kysely"]);
    await appendEvent(db, { actor: "c", action: "StagePhaseChanged", subject: "stage/build", payload: { from: "Pending", to: "Running" }, at: "2026-01-01T00:00:00.000Z" });
    await appendEvent(db, { actor: "c", action: "StagePhaseChanged", subject: "stage/build", payload: { from: "Running", to: "Passed" }, at: "2026-01-01T00:10:00.000Z" });
    const stats = await ledgerStats(db, location);
    expect(stats.tables.events).toBe(3);
    expect(stats.events.topActions[0]).toEqual({ action: "StagePhaseChanged", count: 2 });
    expect(stats.bytes).toBeGreaterThan(0);
    const report = await buildReport(db, { now: "2026-01-01T01:00:00.000Z" });
    expect(report.stages.map((s) => [s.name, s.phase, s.elapsedMs])).toEqual([["build", "Passed", 600_000]]);
    await db.destroy();
  });
});
