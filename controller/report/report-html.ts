/**
 * Pure: the report as ONE self-contained HTML page (inline CSS and SVG, no
 * script, no network: a Content-Security-Policy forbids every fetch). Every
 * text from the ledger goes through `escapeHtml`.
 */
import { formatCost, formatTokens } from "./report-tokens.js";
import { escapeHtml } from "./html-escape.js";
import type { Report } from "./report-model.js";
import { bottleneckSubjects } from "./report-bottlenecks.js";
import { formatDuration, MIN_CHART, renderTimeline } from "./report-timeline.js";
import { MAX_LANES } from "./report-fold.js";

export { escapeHtml } from "./html-escape.js";

const CSS = `
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #1d2329; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; overflow-wrap: anywhere; } h2 { font-size: 17px; margin: 28px 0 8px; }
.span { color: #57606a; margin-bottom: 16px; overflow-wrap: anywhere; }
#legend { display: flex; flex-wrap: wrap; gap: 6px 28px; margin: 0 0 10px; }
.legend-title { font-weight: 600; font-size: 13px; }
#legend ul { list-style: none; margin: 2px 0 0; padding: 0; display: flex; flex-wrap: wrap; gap: 2px 12px; max-width: 560px; }
.legend-item { font-size: 12px; white-space: nowrap; } .legend-item .kind { color: #57606a; font-size: 11px; }
.swatch { display: inline-block; width: 14px; height: 12px; border: 1px solid #555; border-radius: 2px; vertical-align: -2px; margin-right: 4px; }
.timeline { display: flex; border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 8px 8px 0; }
.label-col { flex: none; } .chart-scroll { flex: 1 1 auto; min-width: 0; overflow-x: auto; }
#timeline { display: block; min-width: ${MIN_CHART}px; }
.lane-labels text, #timeline text { font: 12px system-ui, sans-serif; fill: #1d2329; }
.lane-labels text.group { font-weight: 600; } #timeline text.tick { fill: #57606a; font-size: 11px; }
#timeline text.bar-label { font-size: 11px; pointer-events: none; } #timeline text.on-dark { fill: #fff; } #timeline text.on-light { fill: #000; }
#timeline line.grid { stroke: #eaeef2; } #timeline line.axis { stroke: #8c959f; }
#timeline rect.bar:hover, #timeline rect.gate-run:hover { stroke: #000; stroke-width: 1; }
#timeline rect.gate-run { stroke: #fff; stroke-width: 1.5; } #timeline rect.gate-failed { stroke: #000; stroke-width: 1; stroke-dasharray: 3 2; }
.lane-labels text.sub { fill: #57606a; font-size: 12px; }
.table-wrap { max-width: 100%; overflow-x: auto; }
table { border-collapse: collapse; margin: 4px 0; } th, td { padding: 4px 10px; border-bottom: 1px solid #eaeef2; text-align: left; vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.name, div.name { overflow-wrap: anywhere; min-width: 5em; } div.sub { color: #57606a; font-size: 11px; overflow-wrap: anywhere; }
.share { display: inline-block; height: 10px; background: #D55E00; vertical-align: middle; } .share.work { background: #009E73; }
.note { color: #57606a; font-size: 12px; max-width: 900px; }
@media (max-width: 1000px) {
  body { margin: 12px; font-size: 13px; }
  th, td { padding: 3px 5px; } th { font-size: 12px; } td { font-size: 12px; }
}
`;

/** Text (escaped), a number (escaped, right-aligned) or markup built here from numbers only. */
type Cell = string | { readonly num: string } | { readonly html: string } | { readonly name: string };
type Column<T> = readonly [string, (row: T) => Cell];

function table<T>(id: string, rows: readonly T[], columns: readonly Column<T>[]): string {
  const head = columns.map(([h]) => `<th>${escapeHtml(h)}</th>`).join("");
  const cell = (c: Cell): string => {
    if (typeof c === "string") return `<td>${escapeHtml(c)}</td>`;
    if ("num" in c) return `<td class="num">${escapeHtml(c.num)}</td>`;
    return "name" in c ? `<td class="name">${escapeHtml(c.name)}</td>` : `<td>${c.html}</td>`;
  };
  const body = rows.map((r) => `<tr>${columns.map(([, get]) => cell(get(r))).join("")}</tr>`).join("");
  return `<div class="table-wrap"><table id="${id}"><thead><tr>${head}</tr></thead><tbody>${body || `<tr><td colspan="${columns.length}">none</td></tr>`}</tbody></table></div>`;
}

const dur = (ms: number): { num: string } => ({ num: formatDuration(ms) });
const count = (n: number): { num: string } => ({ num: String(n) });

function tables(report: Report): string {
  const commands = Object.entries(report.commandsByState).map(([state, n]) => ({ state, n }));
  return [
    `<h2>Stages</h2><p class="note">Elapsed: from the first phase after Pending until Passed or Failed (or now). Approval wait: time in AwaitingApproval.</p>`,
    table("stages", report.stages, [["stage", (s) => ({ name: s.name })], ["phase", (s) => s.phase], ["elapsed", (s) => dur(s.elapsedMs)], ["approval wait", (s) => dur(s.approvalWaitMs)], ["tokens", (s) => ({ num: formatTokens(s.usage) })], ["cost", (s) => ({ num: formatCost(s.usage) })]]),
    `<h2>Sessions</h2><p class="note">From screen evidence: busy = running, waiting = the agent asks a question, paused = its task, stage or the project paused by a person; starting = until the first screen status; error = an error screen (API error, rate limit); stuck = a screen no rule recognises. Error and stuck time is never busy. Utilization = busy / lifetime.</p>`,
    capped("sessions", report.sessions.length),
    table("sessions", report.sessions.slice(-MAX_LANES), [
      ["session", (s) => ({ html: `<div class="name">${escapeHtml(s.id)}</div><div class="sub">task ${escapeHtml(s.task ?? "-")} · ${escapeHtml(s.role ?? "-")} · ${escapeHtml(`${s.agent}${s.model === null ? "" : ` / ${s.model}`}`)}</div>` })],
      ["lifetime", (s) => dur(s.lifetimeMs)], ["busy", (s) => dur(s.busyMs)], ["idle", (s) => dur(s.idleMs)], ["waiting", (s) => dur(s.waitingMs)],
      ["paused", (s) => dur(s.pausedMs)], ["starting", (s) => dur(s.startingMs)], ["error", (s) => dur(s.errorMs)], ["stuck", (s) => dur(s.stuckMs)], ["utilization", (s) => ({ num: `${Math.round(s.utilization * 100)}%` })],
      ["tokens", (s) => ({ num: formatTokens(s) })], ["cost", (s) => ({ num: formatCost(s) })],
    ]),
    `<h2>Tasks: time per phase</h2><p class="note">Waiting: Pending or Paused. Working: Provisioning, Working, Committing. Conflict: Conflict or Resolving.</p>`,
    capped("tasks", report.taskPhases.length),
    table("task-phases", report.taskPhases.slice(-MAX_LANES), [
      ["task", (t) => ({ name: t.task })], ["stage", (t) => t.stage ?? "-"], ["phase", (t) => t.phase], ["waiting", (t) => dur(t.ms.waiting)], ["working", (t) => dur(t.ms.working)],
      ["gating", (t) => dur(t.ms.gating)], ["merging", (t) => dur(t.ms.merging)], ["conflict", (t) => dur(t.ms.conflict)], ["total", (t) => dur(t.totalMs)],
    ]),
    `<h2>Commands by state</h2>`,
    table("commands", commands, [["state", (c) => c.state], ["commands", (c) => count(c.n)]]),
    `<h2>Agents and models</h2><p class="note">Tokens: as the agents' hooks reported them from their transcripts; unknown when an agent reported none (never counted as 0). Cost: at the AgentPool's pricing for the model.</p>`,
    table("agents", report.agents, [
      ["agent", (a) => ({ name: a.agent })], ["model", (a) => ({ name: a.model ?? "-" })], ["sessions", (a) => count(a.sessions)], ["commands", (a) => count(a.commands)],
      ["restarts", (a) => count(a.restarts)], ["busy", (a) => dur(a.busyMs)], ["error", (a) => dur(a.errorMs)], ["stuck", (a) => dur(a.stuckMs)], ["tokens", (a) => ({ num: formatTokens(a) })], ["cost", (a) => ({ num: formatCost(a) })],
    ]),
    bottlenecks(report),
  ].join("\n");
}

/** Waits (time lost) and work (gate and review time) in two tables, each row naming who. */
function bottlenecks(report: Report): string {
  const top = Math.max(1, ...report.bottlenecks.map((b) => b.ms));
  const columns: Column<Report["bottlenecks"][number] & { rank: number }>[] = [
    ["#", (b) => count(b.rank)], ["cause", (b) => b.cause], ["time", (b) => dur(b.ms)],
    ["share", (b) => ({ html: `<span class="share${b.kind === "work" ? " work" : ""}" style="width:${Math.round((b.ms / top) * 120)}px"></span>` })], ["who", (b) => ({ name: bottleneckSubjects(b) })], ["what", (b) => b.detail],
  ];
  const ranked = (kind: "wait" | "work") => report.bottlenecks.filter((b) => b.kind === kind).map((b, i) => ({ ...b, rank: i + 1 }));
  return [
    `<h2>Bottlenecks: time lost</h2><p class="note">Time lost per cause, summed over the stages and tasks it concerns (parallel waits add up), largest first.</p>`,
    table("bottlenecks", ranked("wait"), columns),
    `<h2>Work: gates and reviews</h2><p class="note">Gate commands and reviews are part of doing a task: their time is work, not time lost (each run is drawn under its task on the timeline).</p>`,
    table("work", ranked("work"), columns),
  ].join("\n");
}

/** Above a table cut to the newest rows: how many are left off (all are in --json and the text report). */
function capped(what: string, rows: number): string {
  return rows <= MAX_LANES ? "" : `<p class="note capped">The ${MAX_LANES} newest of ${rows} ${what}; all of them are in <code>gaffer report --json</code> and the text report.</p>`;
}

/** Says which lanes the timeline leaves off (the oldest, beyond its cap); the tables still hold them. */
function omitted(report: Report): string {
  const { task, session } = report.omittedLanes;
  if (task === 0 && session === 0) return "";
  return `<p class="note" id="omitted">Not drawn: the ${task} oldest task(s) and ${session} oldest session(s), to keep the page small; every figure and table below includes them. Use --stage to draw one stage.</p>`;
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
${renderTimeline(report)}${omitted(report)}
${tables(report)}
</body></html>
`;
}
