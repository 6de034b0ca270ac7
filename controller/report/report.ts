import { sql } from "kysely";
import { formatTable } from "../app/text.js";
import type { Report, ReportEvent } from "./report-model.js";
import { REPORT_ACTIONS, ReportFold } from "./report-fold.js";
import { bottleneckSubjects } from "./report-bottlenecks.js";
import type { Ledger } from "../../state/ledger.js";
import { nowIso } from "../../state/ledger.js";
import { dialectOf } from "../../state/dialect.js";
import { latestUsageBySession } from "../../state/agent-events.repository.js";
import { formatCost, formatTokens, type PricingTable } from "./report-tokens.js";
import { readReportHosts, withHostFigures } from "./report-hosts.js";

/** Events read per page: the report's memory does not grow with the ledger. */
const PAGE = 5000;

/**
 * The report's events, oldest first (by time, ties in ledger order), read in
 * pages by keyset (`at`, `id`) along the events_at index, only the payload
 * fields the report reads: memory stays bounded whatever the ledger's size.
 */
export async function* readReportEvents(db: Ledger, pageSize = PAGE): AsyncGenerator<ReportEvent> {
  let after: { readonly at: string; readonly id: number } | null = null;
  const dialect = dialectOf(db);
  const json = (key: string) => dialect.jsonText("payload", key);
  for (;;) {
    const from = after;
    // NOTE: `+action` keeps SQLite off the events_action index: it walks events_at in order instead of sorting every match per page.
    let q = db.selectFrom("events")
      .select(["id", "at", "action", "subject", json("to").as("to"), json("role").as("role"), json("since").as("since")])
      .where(dialect.unindexed("action"), "in", REPORT_ACTIONS);
    if (from !== null) q = q.where(sql<boolean>`(at, id) > (${from.at}, ${from.id})`);
    const rows = await q.orderBy("at").orderBy("id").limit(pageSize).execute();
    for (const e of rows) yield { at: e.at, action: e.action, subject: e.subject, payload: { to: e.to, role: e.role, ...(e.since === null ? {} : { since: e.since }) } };
    if (rows.length < pageSize) return;
    after = rows.at(-1)!;
  }
}

/** Reads what the report needs from the ledger and computes it, streaming the events. */
export async function buildReport(db: Ledger, options: { readonly stage?: string; readonly now?: string; readonly project?: string; readonly pricing?: PricingTable } = {}): Promise<Report> {
  const sessions = await db.selectFrom("sessions").select(["id", "task", "stage", "role", "agent", "model", "created_at", "closed_at", "restarts"]).orderBy("created_at").execute();
  const commands = await db.selectFrom("commands").select((eb) => ["session_id", "state", eb.fn.countAll<number>().as("n")]).groupBy(["session_id", "state"]).execute();
  const gates = await db.selectFrom("gates").select(["task", "kind", "command", "attempt", "state", "exit_code", "started_at", "duration_ms"]).orderBy("id").execute();
  const tasks = await db.selectFrom("tasks").select(["name", "stage"]).execute();
  const fold = new ReportFold({
    now: options.now ?? nowIso(),
    sessions: sessions.map((s) => ({ id: s.id, task: s.task, stage: s.stage, role: s.role, agent: s.agent, model: s.model, createdAt: s.created_at, closedAt: s.closed_at, restarts: s.restarts })),
    commands: commands.map((c) => ({ sessionId: c.session_id, state: c.state, count: Number(c.n) })),
    gates: gates.map((g) => ({ task: g.task, kind: g.kind, command: g.command, attempt: g.attempt, state: g.state, exitCode: g.exit_code, startedAt: g.started_at, durationMs: g.duration_ms })),
    tasks,
    usage: await latestUsageBySession(db),
    ...(options.pricing === undefined ? {} : { pricing: options.pricing }),
    ...(options.stage === undefined ? {} : { stage: options.stage }),
    ...(options.project === undefined ? {} : { project: options.project }),
  });
  for await (const e of readReportEvents(db)) fold.add(e);
  return withHostFigures(fold.finish(), await readReportHosts(db));
}

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
  return `gaffer report: ${report.project ?? "project"}${scope}, ${span}`;
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
