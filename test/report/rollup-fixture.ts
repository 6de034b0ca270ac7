/**
 * A seeded, generated ledger history for checking the report's rollups
 * against folding every event: sessions (more than the timeline draws) with
 * status changes, late `since` times (some before the previous change or the
 * session's creation), changes out of time order, a status after the close,
 * a time in another format, pauses (one left open), task and stage phases,
 * merges and capacity waits.
 */
import { appendEvents, type NewEvent } from "../../state/events.repository.js";
import type { Ledger } from "../../state/ledger.js";
import { seededRandom } from "../helpers/seeded-random.js";

export const HISTORY_BASE = Date.parse("2026-01-01T00:00:00.000Z");
const STATUSES = ["running", "idle", "waiting", "error", "unknown"];
const PHASES = ["Pending", "Provisioning", "Working", "Gating", "Merging", "Conflict", "Paused", "Merged"];

interface Row { readonly session: Record<string, unknown> | null; readonly event: NewEvent & { at: string } }

/** Generates the history; returns `now` for the report (after the last event). */
export function generateHistory(seed: number, sessionCount: number): { rows: Row[]; tasks: Record<string, unknown>[]; now: string } {
  const rnd = seededRandom(seed);
  const int = (n: number): number => Math.floor(rnd() * n);
  const iso = (t: number): string => new Date(t).toISOString();
  const tasks = Array.from({ length: 20 }, (_, i) => ({ name: `t${i}`, stage: i % 2 === 0 ? "build" : "test", role: "builder", phase: "Working", updated_at: iso(HISTORY_BASE) }));
  const rows: Row[] = [];
  const ev = (t: number, action: string, subject: string, payload: Record<string, unknown> = {}): void => void rows.push({ session: null, event: { actor: "gen", action, subject, payload, at: iso(t) } });
  let end = HISTORY_BASE;
  for (let i = 0; i < sessionCount; i++) {
    const id = `s${i}`;
    const task = `t${int(20)}`;
    const created = HISTORY_BASE + i * 20_000 + int(5000);
    let t = created + int(8000);
    if (rnd() < 0.03) ev(created - 1000 - int(5000), "SessionStatusChanged", `session/${id}`, { to: "running" });
    const changes = 2 + int(10);
    for (let k = 0; k < changes; k++) {
      t += 1 + int(15_000);
      const payload: Record<string, unknown> = { from: "x", to: STATUSES[int(STATUSES.length)] };
      if (rnd() < 0.1) payload.since = iso(t - int(20_000));
      if (rnd() < 0.01) payload.since = iso(t).replace(/\.\d{3}Z$/, "Z");
      ev(t, "SessionStatusChanged", `session/${id}`, payload);
    }
    const closed = rnd() < 0.8 ? t + int(10_000) : null;
    if (closed !== null && rnd() < 0.05) ev(closed + 500, "SessionStatusChanged", `session/${id}`, { to: "idle" });
    const stage = tasks.find((x) => x.name === task)!.stage;
    rows.push({ session: { id, tmux_socket: "gen", tmux_name: id, agent: i % 3 === 0 ? "claude" : "scripted", model: i % 3 === 0 ? "opus" : null, role: "builder", task, stage, worktree: "/nowhere", argv: "[]", state: closed === null ? "Running" : "Closed", status: "idle", created_at: iso(created), updated_at: iso(t), closed_at: closed === null ? null : iso(closed), restarts: int(2) }, event: { actor: "gen", action: "SessionCreated", subject: `session/${id}`, at: iso(created) } });
    if (rnd() < 0.3) ev(created + int(30_000), "TaskPhaseChanged", `task/${task}`, { to: PHASES[int(PHASES.length)] });
    if (rnd() < 0.1) ev(created + int(30_000), "MergeStarted", `task/${task}`);
    if (rnd() < 0.1) {
      ev(created - int(10_000), "CapacityWait", `task/${task}`, { role: "builder" });
      ev(created, "CapacityReserved", `task/${task}`, { role: "builder" });
    }
    if (rnd() < 0.05) ev(created + int(30_000), "StagePhaseChanged", `stage/${stage}`, { to: rnd() < 0.5 ? "Running" : "AwaitingApproval" });
    end = Math.max(end, t, closed ?? 0);
  }
  for (const target of ["project", "stage/build", "task/t3", "task/t7"]) {
    const from = HISTORY_BASE + int(end - HISTORY_BASE);
    ev(from, "Paused", target);
    if (target !== "task/t7") ev(from + int(60_000), "Resumed", target);
  }
  // Mostly in time order, as a ledger is written; a few neighbours swapped (a late writer).
  rows.sort((a, b) => Date.parse(a.event.at) - Date.parse(b.event.at));
  for (let i = 1; i < rows.length; i++) if (rnd() < 0.02) [rows[i - 1], rows[i]] = [rows[i]!, rows[i - 1]!];
  return { rows, tasks, now: iso(end + 3_600_000) };
}

/** Writes the history through the ledger's own append path (sessions first, so their rows exist as in a real ledger). */
export async function writeHistory(db: Ledger, history: ReturnType<typeof generateHistory>): Promise<void> {
  await db.insertInto("tasks").values(history.tasks as never).execute();
  const sessions = history.rows.flatMap((r) => (r.session === null ? [] : [r.session]));
  for (let i = 0; i < sessions.length; i += 200) await db.insertInto("sessions").values(sessions.slice(i, i + 200) as never).execute();
  await appendEvents(db, history.rows.map((r) => r.event));
}
