import { formatTable } from "../app/text.js";
import type { Report } from "./report-model.js";
import { bottleneckSubjects } from "./report-bottlenecks.js";
import type { Ledger } from "../../state/ledger.js";
import { formatCost, formatTokens } from "./report-tokens.js";

export { buildReport, buildReportFromEvents, readReportEvents, streamReport, writeReportJson, type JsonOut, type ReportOptions, type ReportSink } from "./report-build.js";

/** Stage names the ledger knows (rows and phase events), for checking `--stage`. */
export async function listReportStages(db: Ledger): Promise<string[]> {
  const rows = await db.selectFrom("stages").select("name").execute();
  const tasks = await db.selectFrom("tasks").select("stage").distinct().execute();
  return [...new Set([...rows.map((r) => r.name), ...tasks.map((t) => t.stage)])].sort();
}

/** Seconds with one decimal: `12.3s`. */
export const secs = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;
/** A 0..1 ratio as a whole percentage. */
export const pct = (x: number): string => `${Math.round(x * 100)}%`;

function header(report: Report): string {
  const span = report.end > report.start ? `${new Date(report.start).toISOString()} .. ${new Date(report.end).toISOString()} (${secs(report.end - report.start)})` : "no activity recorded";
  const scope = report.stage === null ? "" : ` stage ${report.stage}`;
  const compacted = report.compactedBefore === undefined ? "" : `\n(events before ${report.compactedBefore} were compacted: sessions from then count from their rollups, pauses not carved out, and are not drawn)`;
  return `gaffer report: ${report.project ?? "project"}${scope}, ${span}${compacted}`;
}

/** The report as text tables. */
export function formatReport(report: Report): string {
  const stages = formatTable(report.stages, [
    ["STAGE", (s) => s.name],
    ["PHASE", (s) => s.phase],
    ["ELAPSED", (s) => secs(s.elapsedMs)],
    ["APPROVAL WAIT", (s) => secs(s.approvalWaitMs)],
    ["TOKENS", (s) => formatTokens(s.usage)],
    ["COST", (s) => formatCost(s.usage)],
  ]);
  const sessions = formatTable(report.sessions, [
    ["SESSION", (s) => s.id],
    ...(report.hosts === undefined ? [] : [["HOST", (s: Report["sessions"][number]) => s.host ?? "local"] as const]),
    ["ROLE", (s) => s.role ?? "-"],
    ["LIFETIME", (s) => secs(s.lifetimeMs)],
    ["BUSY", (s) => secs(s.busyMs)],
    ["IDLE", (s) => secs(s.idleMs)],
    ["WAITING", (s) => secs(s.waitingMs)],
    ["PAUSED", (s) => secs(s.pausedMs)],
    ["STARTING", (s) => secs(s.startingMs)],
    ["ERROR", (s) => secs(s.errorMs)],
    ["STUCK", (s) => secs(s.stuckMs)],
    ["UTIL", (s) => pct(s.utilization)],
    ["TOKENS", (s) => formatTokens(s)],
    ["COST", (s) => formatCost(s)],
  ]);
  const agents = formatTable(report.agents, [
    ["AGENT", (a) => a.agent],
    ["MODEL", (a) => a.model ?? "-"],
    ["SESSIONS", (a) => String(a.sessions)],
    ["COMMANDS", (a) => String(a.commands)],
    ["RESTARTS", (a) => String(a.restarts)],
    ["BUSY", (a) => secs(a.busyMs)],
    ["ERROR", (a) => secs(a.errorMs)],
    ["STUCK", (a) => secs(a.stuckMs)],
    ["TOKENS", (a) => formatTokens(a)],
    ["COST", (a) => formatCost(a)],
  ]);
  const bottlenecks = formatTable(report.bottlenecks, [
    ["BOTTLENECK", (b) => b.cause],
    ["TIME", (b) => secs(b.ms)],
    ["AS", (b) => (b.kind === "work" ? "work" : "lost")],
    ["WHO", (b) => bottleneckSubjects(b)],
    ["WHAT", (b) => b.detail],
  ]);
  const taskPhases = formatTable(report.taskPhases, [
    ["TASK", (t) => t.task],
    ["STAGE", (t) => t.stage ?? "-"],
    ["PHASE", (t) => t.phase],
    ["WAITING", (t) => secs(t.ms.waiting)],
    ["WORKING", (t) => secs(t.ms.working)],
    ["GATING", (t) => secs(t.ms.gating)],
    ["MERGING", (t) => secs(t.ms.merging)],
    ["CONFLICT", (t) => secs(t.ms.conflict)],
    ["TOTAL", (t) => secs(t.totalMs)],
  ]);
  const commands = Object.entries(report.commandsByState).map(([state, n]) => `${state} ${n}`).join(", ") || "none";
  return [
    header(report), "",
    "== stages (elapsed: first phase after Pending until Passed/Failed or now)", stages, "",
    "== tasks, time per phase (waiting = Pending or Paused; working = Provisioning, Working, Committing; conflict = Conflict or Resolving)", taskPhases, "",
    "== sessions (busy = running screen; error = error screen; stuck = a screen no rule recognises; util = busy / lifetime)", sessions, "",
    ...(report.hosts === undefined ? [] : ["== agent hosts (util = busy / lifetime of the sessions there)", formatTable(report.hosts, [["HOST", (h) => h.host], ["SESSIONS", (h) => String(h.sessions)], ["BUSY", (h) => secs(h.busyMs)], ["LIFETIME", (h) => secs(h.lifetimeMs)], ["UTIL", (h) => pct(h.utilization)]]), ""]),
    `== commands by state: ${commands}`, "",
    "== agents and models (tokens: as the agents' hooks reported them, unknown when they reported none; cost: at the AgentPool's pricing)", agents, "",
    "== bottlenecks, time lost waiting (and gate/review time, which is work) summed over stages and tasks, largest first", bottlenecks,
  ].join("\n");
}
