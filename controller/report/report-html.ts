/**
 * Pure: the report as ONE self-contained HTML page (inline CSS and SVG, no
 * script, no network: a Content-Security-Policy forbids every fetch). Every
 * text from the ledger goes through `escapeHtml`.
 */
import { formatCost, formatTokens } from "./report-tokens.js";
import { escapeHtml } from "./html-escape.js";
import type { Report } from "./report-model.js";
import { bottleneckSubjects } from "./report-bottlenecks.js";
import { formatDuration, renderTimeline } from "./report-timeline.js";

export { escapeHtml } from "./html-escape.js";

const CSS = `
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #1d2329; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
.span { color: #57606a; margin-bottom: 16px; }
.timeline-wrap { overflow-x: auto; border: 1px solid #d0d7de; border-radius: 6px; padding: 8px; }
#timeline text { font: 12px system-ui, sans-serif; fill: #1d2329; }
#timeline text.group { font-weight: 600; } #timeline text.tick { fill: #57606a; font-size: 11px; }
#timeline line.grid { stroke: #eaeef2; } #timeline line.axis { stroke: #8c959f; }
#timeline rect.bar:hover { stroke: #000; stroke-width: 1; }
table { border-collapse: collapse; margin: 4px 0; } th, td { padding: 4px 10px; border-bottom: 1px solid #eaeef2; text-align: left; }
th { background: #f6f8fa; font-weight: 600; } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.share { display: inline-block; height: 10px; background: #d62f2f; vertical-align: middle; }
.note { color: #57606a; font-size: 12px; max-width: 900px; }
`;

/** Text (escaped), a number (escaped, right-aligned) or markup built here from numbers only. */
type Cell = string | { readonly num: string } | { readonly html: string };
type Column<T> = readonly [string, (row: T) => Cell];

function table<T>(id: string, rows: readonly T[], columns: readonly Column<T>[]): string {
  const head = columns.map(([h]) => `<th>${escapeHtml(h)}</th>`).join("");
  const cell = (c: Cell): string => (typeof c === "string" ? `<td>${escapeHtml(c)}</td>` : "num" in c ? `<td class="num">${escapeHtml(c.num)}</td>` : `<td>${c.html}</td>`);
  const body = rows.map((r) => `<tr>${columns.map(([, get]) => cell(get(r))).join("")}</tr>`).join("");
  return `<table id="${id}"><thead><tr>${head}</tr></thead><tbody>${body || `<tr><td colspan="${columns.length}">none</td></tr>`}</tbody></table>`;
}

const dur = (ms: number): { num: string } => ({ num: formatDuration(ms) });
const count = (n: number): { num: string } => ({ num: String(n) });

function tables(report: Report): string {
  const top = Math.max(1, ...report.bottlenecks.map((b) => b.ms));
  const commands = Object.entries(report.commandsByState).map(([state, n]) => ({ state, n }));
  return [
    `<h2>Stages</h2><p class="note">Elapsed: from the first phase after Pending until Passed or Failed (or now). Approval wait: time in AwaitingApproval.</p>`,
    table("stages", report.stages, [["stage", (s) => s.name], ["phase", (s) => s.phase], ["elapsed", (s) => dur(s.elapsedMs)], ["approval wait", (s) => dur(s.approvalWaitMs)], ["tokens", (s) => formatTokens(s.usage)], ["cost", (s) => formatCost(s.usage)]]),
    `<h2>Sessions</h2><p class="note">From screen evidence: busy = running, waiting = the agent asks a question, paused = its task, stage or the project paused by a person; starting = until the first screen status; error = an error screen (API error, rate limit); stuck = a screen no rule recognises. Error and stuck time is never busy. Utilization = busy / lifetime.</p>`,
    table("sessions", report.sessions, [
      ["session", (s) => s.id], ["task", (s) => s.task ?? "-"], ["role", (s) => s.role ?? "-"], ["agent", (s) => `${s.agent}${s.model === null ? "" : ` / ${s.model}`}`],
      ["lifetime", (s) => dur(s.lifetimeMs)], ["busy", (s) => dur(s.busyMs)], ["idle", (s) => dur(s.idleMs)], ["waiting", (s) => dur(s.waitingMs)],
      ["paused", (s) => dur(s.pausedMs)], ["starting", (s) => dur(s.startingMs)], ["error", (s) => dur(s.errorMs)], ["stuck", (s) => dur(s.stuckMs)], ["utilization", (s) => ({ num: `${Math.round(s.utilization * 100)}%` })],
      ["tokens", (s) => formatTokens(s)], ["cost", (s) => formatCost(s)],
    ]),
    `<h2>Tasks: time per phase</h2><p class="note">Waiting: Pending or Paused. Working: Provisioning, Working, Committing. Conflict: Conflict or Resolving.</p>`,
    table("task-phases", report.taskPhases, [
      ["task", (t) => t.task], ["stage", (t) => t.stage ?? "-"], ["phase", (t) => t.phase], ["waiting", (t) => dur(t.ms.waiting)], ["working", (t) => dur(t.ms.working)],
      ["gating", (t) => dur(t.ms.gating)], ["merging", (t) => dur(t.ms.merging)], ["conflict", (t) => dur(t.ms.conflict)], ["total", (t) => dur(t.totalMs)],
    ]),
    `<h2>Commands by state</h2>`,
    table("commands", commands, [["state", (c) => c.state], ["commands", (c) => count(c.n)]]),
    `<h2>Agents and models</h2><p class="note">Tokens: as the agents' hooks reported them from their transcripts; unknown when an agent reported none (never counted as 0). Cost: at the AgentPool's pricing for the model.</p>`,
    table("agents", report.agents, [
      ["agent", (a) => a.agent], ["model", (a) => a.model ?? "-"], ["sessions", (a) => count(a.sessions)], ["commands", (a) => count(a.commands)],
      ["restarts", (a) => count(a.restarts)], ["busy", (a) => dur(a.busyMs)], ["error", (a) => dur(a.errorMs)], ["stuck", (a) => dur(a.stuckMs)], ["tokens", (a) => formatTokens(a)], ["cost", (a) => formatCost(a)],
    ]),
    `<h2>Bottlenecks</h2><p class="note">Time per cause, summed over the stages and tasks it concerns (parallel waits add up), largest first. Waits are time lost; gate and review time is work.</p>`,
    table("bottlenecks", report.bottlenecks.map((b, i) => ({ ...b, rank: i + 1 })), [
      ["#", (b) => count(b.rank)], ["cause", (b) => b.cause], ["time", (b) => dur(b.ms)], ["as", (b) => (b.kind === "work" ? "work" : "time lost")],
      ["share", (b) => ({ html: `<span class="share" style="width:${Math.round((b.ms / top) * 160)}px"></span>` })], ["who", (b) => bottleneckSubjects(b)], ["what", (b) => b.detail],
    ]),
  ].join("\n");
}

/** The whole page. */
export function renderReportHtml(report: Report): string {
  const project = report.project ?? "project";
  const scope = report.stage === null ? "" : ` — stage ${report.stage}`;
  const span = report.end > report.start ? `${new Date(report.start).toISOString()} to ${new Date(report.end).toISOString()} (${formatDuration(report.end - report.start)})` : "no activity recorded";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gaffer report: ${escapeHtml(project)}${escapeHtml(scope)}</title>
<style>${CSS}</style></head>
<body>
<h1>gaffer report: ${escapeHtml(project)}${escapeHtml(scope)}</h1>
<div class="span" id="span">${escapeHtml(span)} · generated ${escapeHtml(report.generatedAt)}</div>
<h2>Timeline</h2>
<div class="timeline-wrap">${renderTimeline(report)}</div>
${tables(report)}
</body></html>
`;
}
