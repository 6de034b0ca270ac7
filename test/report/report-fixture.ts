/**
 * A ledger with KNOWN timings for the report tests: every event, session,
 * command and gate row has an explicit time, in seconds after T0.
 * The expected figures are worked out in report-model.test.ts.
 */
import { join } from "node:path";
import { appendEvent } from "../../state/events.repository.js";
import { openLedger, type Ledger } from "../../state/ledger.js";
import { tempDir } from "../helpers/temp.js";

const T0 = Date.parse("2030-01-01T00:00:00.000Z");
/** ISO time `s` seconds after T0. */
export const at = (s: number): string => new Date(T0 + s * 1000).toISOString();
export const T0_MS = T0;
/** The report's `now`: 60 s after T0. */
export const NOW = at(60);

/** A task name, session id and agent no page may render as markup. */
export const HOSTILE = `<img src=x onerror="alert(1)">&'x</title><script>alert(2)</script>`;

type Change = readonly [number, string];

async function phases(db: Ledger, action: string, subject: string, changes: readonly Change[]): Promise<void> {
  let from: string | null = null;
  for (const [s, to] of changes) {
    await appendEvent(db, { actor: "test", action, subject, payload: { from, to }, at: at(s) });
    from = to;
  }
}

async function event(db: Ledger, s: number, action: string, subject: string, payload: Record<string, unknown> = {}): Promise<void> {
  await appendEvent(db, { actor: "test", action, subject, payload, at: at(s) });
}

interface SessionSpec {
  readonly id: string;
  readonly task: string;
  readonly stage: string;
  readonly role: string;
  readonly agent: string;
  readonly model: string | null;
  readonly created: number;
  readonly closed: number | null;
  readonly restarts: number;
  /** Screen status changes. */
  readonly status: readonly Change[];
  readonly commands: readonly string[];
}

async function session(db: Ledger, s: SessionSpec): Promise<void> {
  await db.insertInto("sessions").values({
    id: s.id, task: s.task, stage: s.stage, role: s.role, agent: s.agent, model: s.model, tmux_socket: "test", tmux_name: s.id, pane_pid: null,
    worktree: "/nowhere", state: s.closed === null ? "Idle" : "Closed", status: "idle", status_rule: null, status_hash: null, status_at: null,
    restarts: s.restarts, reservation_id: null, created_at: at(s.created), updated_at: at(s.created), closed_at: s.closed === null ? null : at(s.closed),
    close_reason: null, screen_changed_at: null, backoff_until: null, argv: null, last_exit_status: null,
  }).execute();
  let from = "unknown";
  for (const [t, to] of s.status) {
    await event(db, t, "SessionStatusChanged", `session/${s.id}`, { from, to });
    from = to;
  }
  for (const [i, state] of s.commands.entries()) {
    await db.insertInto("commands").values({
      id: `${s.id}-c${i}`, session_id: s.id, seq: i + 1, text: "do it", state, idempotency_key: `${s.id}-k${i}`, sender: "test", issued_at: at(s.created),
      typed_at: null, submitted_at: null, acknowledged_at: null, done_at: null, failed_at: null, stranded_at: null, exit_code: null, summary: null, evidence: null, owner: null, lease_until: null,
    }).execute();
  }
}

async function gate(db: Ledger, g: { task: string; start: number; durationMs: number | null; state?: "passed" | "failed"; kind?: "command" | "review"; attempt?: number }): Promise<void> {
  const state = g.durationMs === null ? "running" : g.state ?? "passed";
  const review = g.kind === "review";
  await db.insertInto("gates").values({
    task: g.task, attempt: g.attempt ?? 1, kind: g.kind ?? "command", command: review ? "review" : JSON.stringify(["npm", "test"]), state, exit_code: state === "running" || review ? null : state === "passed" ? 0 : 1,
    duration_ms: g.durationMs, output_tail: null, started_at: at(g.start), finished_at: g.durationMs === null ? null : new Date(T0 + g.start * 1000 + g.durationMs).toISOString(),
  }).execute();
}

async function rows(db: Ledger, hostile: boolean): Promise<void> {
  for (const name of ["build", "docs"]) await db.insertInto("stages").values({ name, phase: "Running", generation: null, plan_digest: null, started_at: null, finished_at: null, updated_at: at(0), snapshot: null }).execute();
  const tasks = [["a", "build"], ["b", "build"], ["c", "docs"], ...(hostile ? [[HOSTILE, "docs"]] : [])];
  for (const [name, stage] of tasks) await db.insertInto("tasks").values({ name: name!, stage: stage!, role: "builder", phase: "Working", updated_at: at(0) }).execute();
}

/** Builds the known ledger in a temp dir (closed when the test finishes is the caller's job: `db.destroy()`). */
export async function knownLedger(options: { readonly hostile?: boolean } = {}): Promise<Ledger> {
  const db = await openLedger(join(tempDir("gaffer-report-"), "ledger.sqlite"));
  await rows(db, options.hostile === true);
  await phases(db, "StagePhaseChanged", "stage/build", [[0, "Pending"], [1, "Proposed"], [2, "AwaitingApproval"], [12, "Running"], [40, "Gating"], [50, "Passed"]]);
  await phases(db, "StagePhaseChanged", "stage/docs", [[0, "Pending"], [5, "Proposed"], [6, "Blocked"], [9, "Proposed"], [10, "AwaitingApproval"], [14, "Running"]]);
  await phases(db, "TaskPhaseChanged", "task/a", [[0, "Pending"], [12, "Provisioning"], [13, "Working"], [25, "Committing"], [26, "Gating"], [30, "Merging"], [33, "Resolving"], [38, "Merging"], [45, "Merged"]]);
  await phases(db, "TaskPhaseChanged", "task/b", [[0, "Pending"], [12, "Provisioning"], [13, "Working"], [33, "Gating"], [35, "Merging"], [39, "Merged"]]);
  await phases(db, "TaskPhaseChanged", "task/c", [[0, "Pending"], [14, "Working"], [50, "Merging"]]);
  if (options.hostile === true) await phases(db, "TaskPhaseChanged", `task/${HOSTILE}`, [[0, "Pending"], [14, "Working"]]);
  // Merge queue: queued just before started (the controller serializes merges before queueing).
  for (const [s, action, task, merge] of [[31.9, "MergeQueued", "a", 1], [32, "MergeStarted", "a", 1], [33, "MergeConflict", "a", 1], [36.9, "MergeQueued", "b", 2], [37, "MergeStarted", "b", 2], [39.5, "MergeQueued", "a", 3], [40, "MergeStarted", "a", 3], [40.5, "MergeStarted", "a", 4]] as const) {
    await event(db, s, action, `task/${task}`, { merge });
  }
  await event(db, 13, "CapacityWait", "task/b", { role: "builder" });
  await event(db, 14, "CapacityReserved", "task/b", { role: "reviewer" });
  await event(db, 16, "CapacityReserved", "task/b", { role: "builder" });
  await event(db, 14, "CapacityWait", "task/c", { role: "reviewer" });
  await event(db, 21, "Paused", "project");
  await event(db, 22.5, "Paused", "task/a");
  await event(db, 23, "Resumed", "project");
  await event(db, 24.5, "Resumed", "task/a");
  await event(db, 30, "Paused", "stage/docs");
  await session(db, { id: "s-a", task: "a", stage: "build", role: "builder", agent: "claude", model: "opus", created: 13, closed: 28, restarts: 0, status: [[14, "running"], [20, "idle"], [22, "running"], [24, "waiting"], [26, "idle"], [29, "running"]], commands: ["done", "done", "failed"] });
  await session(db, { id: "s-b", task: "b", stage: "build", role: "builder", agent: "claude", model: "opus", created: 16, closed: null, restarts: 2, status: [[16.5, "running"], [26, "idle"]], commands: ["done", "issued"] });
  await session(db, { id: "s-c", task: "c", stage: "docs", role: "writer", agent: "codex", model: null, created: 15, closed: 20, restarts: 0, status: [[15, "running"]], commands: ["stranded"] });
  if (options.hostile === true) await session(db, { id: HOSTILE, task: HOSTILE, stage: "docs", role: HOSTILE, agent: HOSTILE, model: HOSTILE, created: 41, closed: 44, restarts: 0, status: [[42, "running"]], commands: [] });
  // a's first gate fails (back to work), its second attempt passes; b's gate is a review; c's still runs.
  await gate(db, { task: "a", start: 26, durationMs: 2000, state: "failed" });
  await gate(db, { task: "a", start: 40.5, durationMs: 1500, attempt: 2 });
  await gate(db, { task: "b", start: 33, durationMs: 1000, kind: "review" });
  await gate(db, { task: "c", start: 55, durationMs: null });
  return db;
}
