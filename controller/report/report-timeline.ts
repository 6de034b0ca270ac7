/**
 * Pure: the report's lanes as an inline SVG timeline. Two SVGs side by side:
 * the row labels (fixed) and the chart (`svg#timeline`, as wide as the page
 * allows, scrolling inside its box below `MIN_CHART` px). Bars are placed in
 * percent of the chart's width, so text never scales. Rows are grouped as
 * stages, tasks (each followed by its gate runs), sessions; one `rect.bar`
 * per interval with `data-lane` (`session/<id>`...) and `data-state`, one
 * `rect.gate-run` per gate run with `data-task` and `data-result`.
 */
import { escapeHtml } from "./html-escape.js";
import type { GateRun, Lane, Report } from "./report-model.js";
import { PATTERN_DEFS, renderLegend, styleOf, textColourOn, type LegendGroup } from "./report-palette.js";
import { formatDuration, tickLabel, tickStep } from "./report-ticks.js";

export { formatDuration, tickLabel, tickStep } from "./report-ticks.js";

/** Width of the label column (px). */
const LABEL = 220;
/** Below this width (px) the chart scrolls inside its box instead of squeezing. */
export const MIN_CHART = 480;
const ROW = 22;
const BAR = 16;
const GROUP = 26;
const AXIS = 22;
const CHAR = 6.6;

interface Row {
  readonly y: number;
  readonly label: string;
  readonly heading?: boolean;
  /** A gate-run row (muted label). */
  readonly sub?: boolean;
  /** Chart content of the row (bars), given its y. */
  readonly chart: string;
}

/** Where a time falls, in percent of the chart's width. */
type Place = (t: number) => number;
const pc = (x: number): string => `${x.toFixed(3)}%`;

function bar(options: { place: Place; start: number; end: number; y: number; fill: string; cls: string; data: string; tip: string; text: string; minWidth?: number }): string {
  const x = options.place(options.start);
  const w = Math.max(options.minWidth ?? 0.1, options.place(options.end) - x);
  const fits = (w / 100) * MIN_CHART >= options.text.length * CHAR + 8;
  const label = fits ? `<text class="bar-label ${textColourOn(options.fill) === "#FFFFFF" ? "on-dark" : "on-light"}" x="${pc(x)}" dx="4" y="${options.y + BAR - 4}">${escapeHtml(options.text)}</text>` : "";
  return `<g><rect class="${options.cls}" ${options.data} x="${pc(x)}" y="${options.y}" width="${pc(w)}" height="${BAR}" fill="${options.fill}"><title>${escapeHtml(options.tip)}</title></rect>${label}</g>`;
}

function laneBars(lane: Lane, report: Report, place: Place, y: number): string {
  const key = `${lane.kind}/${lane.name}`;
  return lane.intervals.map((i) => {
    const tip = `${key}: ${i.state}\nstart ${new Date(i.start).toISOString()} (+${formatDuration(i.start - report.start)})\nduration ${formatDuration(i.end - i.start)}`;
    return bar({ place, start: i.start, end: i.end, y, fill: styleOf(lane.kind, i.state).fill, cls: "bar", data: `data-lane="${escapeHtml(key)}" data-state="${escapeHtml(i.state)}"`, tip, text: i.state });
  }).join("");
}

function gateBars(runs: readonly GateRun[], report: Report, place: Place, y: number): string {
  return runs.map((g) => {
    const what = g.kind === "review" ? "review" : `\`${g.command}\``;
    const exit = g.exitCode === null ? "" : `, exit ${g.exitCode}`;
    const tip = `gate run of task ${g.task}, attempt ${g.attempt}: ${what} ${g.result}${exit}\nstart ${new Date(g.start).toISOString()} (+${formatDuration(g.start - report.start)})\nduration ${formatDuration(g.end - g.start)} (work, not time lost)`;
    const data = `data-task="${escapeHtml(g.task)}" data-result="${g.result}" data-kind="${escapeHtml(g.kind)}" data-attempt="${g.attempt}"`;
    const mark = g.result === "passed" ? "✓" : g.result === "failed" ? "✗" : "…";
    return bar({ place, start: g.start, end: g.end, y, fill: styleOf("gate", g.result).fill, cls: `gate-run gate-${g.result}`, data, tip, minWidth: 0.5, text: `${mark} ${g.kind === "review" ? "review" : "gate"}` });
  }).join("");
}

function laneLabel(lane: Lane, report: Report): string {
  if (lane.kind !== "session") return lane.name;
  const role = report.sessions.find((s) => s.id === lane.name)?.role;
  return role === null || role === undefined ? lane.name : `${lane.name} (${role})`;
}

/** Every row, top to bottom: a heading per group, a row per lane, a gate-run row under a task that ran gates. */
function layout(report: Report, place: Place): Row[] {
  const rows: Row[] = [];
  let y = AXIS + 4;
  for (const [kind, title] of [["stage", "Stages"], ["task", "Tasks"], ["session", "Sessions"]] as const) {
    const lanes = report.lanes.filter((l) => l.kind === kind);
    rows.push({ y, label: `${title} (${lanes.length})`, heading: true, chart: "" });
    y += GROUP;
    for (const lane of lanes) {
      rows.push({ y, label: laneLabel(lane, report), chart: `<g class="lane" data-lane="${escapeHtml(`${kind}/${lane.name}`)}">${laneBars(lane, report, place, y + (ROW - BAR) / 2)}</g>` });
      y += ROW;
      const runs = kind === "task" ? report.gateRuns.filter((g) => g.task === lane.name) : [];
      if (runs.length === 0) continue;
      rows.push({ y, label: `↳ gate runs (${runs.length})`, sub: true, chart: `<g class="gate-runs" data-task="${escapeHtml(lane.name)}">${gateBars(runs, report, place, y + (ROW - BAR) / 2)}</g>` });
      y += ROW;
    }
  }
  return rows;
}

function axis(report: Report, place: Place, height: number): string {
  const span = Math.max(1, report.end - report.start);
  const step = tickStep(span);
  const ticks: string[] = [];
  for (let t = 0; t <= span; t += step) {
    const x = place(report.start + t);
    const anchor = x < 3 ? "start" : x > 97 ? "end" : "middle";
    ticks.push(`<line class="grid" x1="${pc(x)}" y1="${AXIS}" x2="${pc(x)}" y2="${height}"/><text class="tick" x="${pc(x)}" y="${AXIS - 6}" text-anchor="${anchor}">${tickLabel(t, step)}</text>`);
  }
  return `<g id="axis"><line class="axis" x1="0" y1="${AXIS}" x2="100%" y2="${AXIS}"/>${ticks.join("")}</g>`;
}

/** The states each legend group needs: those on the bars, and the gate results. */
function usedStates(report: Report): Map<LegendGroup, Set<string>> {
  const used = new Map<LegendGroup, Set<string>>([["stage", new Set()], ["task", new Set()], ["session", new Set()], ["gate", new Set()]]);
  for (const lane of report.lanes) for (const i of lane.intervals) used.get(lane.kind)!.add(i.state);
  for (const g of report.gateRuns) used.get("gate")!.add(g.result);
  return used;
}

/** The legend and the timeline (labels and chart), as HTML. */
export function renderTimeline(report: Report): string {
  const span = Math.max(1, report.end - report.start);
  // Keep a small margin at the right so the last bar and tick stay inside.
  const place: Place = (t) => ((t - report.start) / span) * 98.5;
  const rows = layout(report, place);
  const height = (rows.at(-1)?.y ?? AXIS) + ROW + 6;
  const labels = rows.map((r) => {
    const shown = r.label.length > 31 ? `${r.label.slice(0, 30)}…` : r.label;
    return `<text class="${r.heading === true ? "group" : r.sub === true ? "label sub" : "label"}" x="${r.heading === true ? 6 : 14}" y="${r.y + 15}"><title>${escapeHtml(r.label)}</title>${escapeHtml(shown)}</text>`;
  });
  const labelSvg = `<svg class="lane-labels" xmlns="http://www.w3.org/2000/svg" width="${LABEL}" height="${height}" aria-hidden="true">${labels.join("")}</svg>`;
  const chart = `<svg id="timeline" xmlns="http://www.w3.org/2000/svg" width="100%" height="${height}" role="img" aria-label="timeline of stages, tasks, gate runs and sessions">${PATTERN_DEFS}${axis(report, place, height)}${rows.map((r) => r.chart).join("")}</svg>`;
  return `${renderLegend(usedStates(report))}<div class="timeline"><div class="label-col">${labelSvg}</div><div class="chart-scroll">${chart}</div></div>`;
}
