import { formatTable } from "../cli/output.js";
import { buildReportModel, type Report } from "./report-model.js";
import type { Ledger } from "../../state/ledger.js";
import { nowIso } from "../../state/ledger.js";

/** Reads what the report needs from the ledger and computes it. */
export async function buildReport(db: Ledger, options: { readonly stage?: string; readonly now?: string } = {}): Promise<Report> {
  const events = await db.selectFrom("events").select(["at", "action", "subject", "payload"]).orderBy("id").execute();
  const sessions = await db.selectFrom("sessions").select(["id", "task", "stage", "role", "agent", "model", "created_at", "closed_at", "restarts"]).orderBy("created_at").execute();
  const commands = await db.selectFrom("commands").select(["session_id", "state"]).execute();
  const gates = await db.selectFrom("gates").select(["task", "duration_ms"]).execute();
  const tasks = await db.selectFrom("tasks").select(["name", "stage"]).execute();
  return buildReportModel({
    now: options.now ?? nowIso(),
    events: events.map((e) => ({ at: e.at, action: e.action, subject: e.subject, payload: JSON.parse(e.payload) as Record<string, unknown> })),
    sessions: sessions.map((s) => ({ id: s.id, task: s.task, stage: s.stage, role: s.role, agent: s.agent, model: s.model, createdAt: s.created_at, closedAt: s.closed_at, restarts: s.restarts })),
    commands: commands.map((c) => ({ sessionId: c.session_id, state: c.state })),
    gates: gates.map((g) => ({ task: g.task, durationMs: g.duration_ms })),
    tasks,
    ...(options.stage === undefined ? {} : { stage: options.stage }),
  });
}

const secs = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;
const pct = (x: number): string => `${Math.round(x * 100)}%`;

/** The report as text tables. */
export function formatReport(report: Report): string {
  const stages = formatTable(report.stages, [
    ["STAGE", (s) => s.name],
    ["PHASE", (s) => s.phase],
    ["ELAPSED", (s) => secs(s.elapsedMs)],
    ["APPROVAL WAIT", (s) => secs(s.approvalWaitMs)],
  ]);
  const sessions = formatTable(report.sessions, [
    ["SESSION", (s) => s.id],
    ["TASK", (s) => s.task ?? "-"],
    ["BUSY", (s) => secs(s.busyMs)],
    ["IDLE", (s) => secs(s.idleMs)],
    ["WAITING", (s) => secs(s.waitingMs)],
    ["PAUSED", (s) => secs(s.pausedMs)],
    ["UTIL", (s) => pct(s.utilization)],
  ]);
  const agents = formatTable(report.agents, [
    ["AGENT", (a) => a.agent],
    ["MODEL", (a) => a.model ?? "-"],
    ["SESSIONS", (a) => String(a.sessions)],
    ["COMMANDS", (a) => String(a.commands)],
    ["RESTARTS", (a) => String(a.restarts)],
    ["BUSY", (a) => secs(a.busyMs)],
    ["TOKENS", (a) => a.tokens],
    ["COST", (a) => a.cost],
  ]);
  const bottlenecks = formatTable(report.bottlenecks, [
    ["BOTTLENECK", (b) => b.cause],
    ["TIME LOST", (b) => secs(b.ms)],
    ["WHAT", (b) => b.detail],
  ]);
  const commands = Object.entries(report.commandsByState).map(([state, n]) => `${state} ${n}`).join(", ") || "none";
  return [
    "== stages", stages, "",
    "== sessions (busy = running, from screen evidence)", sessions, "",
    `== commands by state: ${commands}`, "",
    "== agents and models (tokens and cost: unknown, the scripted and CLI profiles do not show them)", agents, "",
    "== bottlenecks, largest first", bottlenecks,
  ].join("\n");
}
