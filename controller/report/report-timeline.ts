/**
 * Pure: the report's lanes as one inline SVG timeline. Rows grouped as
 * stages, tasks, sessions; one `rect.bar` per interval with `data-lane`
 * (`session/<id>`...) and `data-state` hooks and a `<title>` tooltip.
 */
import { escapeHtml } from "./html-escape.js";
import type { Lane, Report } from "./report-model.js";

const WIDTH = 1200;
const LABEL = 270;
const RIGHT = 24;
const CHART = WIDTH - LABEL - RIGHT;
const ROW = 20;
const BAR = 14;
const GROUP = 24;

/** Fill per state; lanes of every kind share the table (`paused`/`Paused` are striped). */
export const STATE_COLOURS: Readonly<Record<string, string>> = {
  running: "#2e9d4f", Working: "#2e9d4f", Running: "#2f7fd1",
  idle: "#b9bfc7", Pending: "#e3e6ea", unknown: "#d6dade", starting: "#9cc2e5", Provisioning: "#9cc2e5",
  waiting: "#f0a202", AwaitingApproval: "#f0a202", Proposed: "#a8c6ea",
  Committing: "#6cc08f", Gating: "#17a2a2", Merging: "#6a5acd", Merged: "#1f7a3a", Passed: "#1f7a3a",
  Conflict: "#e8710a", Resolving: "#f4a259", Blocked: "#c0392b",
  Failed: "#d62f2f", error: "#d62f2f",
  paused: "url(#paused)", Paused: "url(#paused)",
};

const fill = (state: string): string => STATE_COLOURS[state] ?? "#888888";

/** `850 ms`, `12.3 s`, `4m 05s`, `1h 02m`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

const STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 15e3, 3e4, 6e4, 12e4, 3e5, 6e5, 9e5, 18e5, 36e5, 72e5, 108e5, 216e5, 432e5, 864e5];

/** A round tick step (ms, s, m, h) giving at most about `count` ticks over `span`. */
export function tickStep(span: number, count = 8): number {
  const raw = Math.max(1, span / count);
  return STEPS.find((s) => s >= raw) ?? Math.ceil(raw / 864e5) * 864e5;
}

/** A tick's offset from the start: `0.25s`, `12s`, `1m30s`, `2h15m`. */
export function tickLabel(offset: number, step: number): string {
  const two = (n: number): string => String(Math.floor(n)).padStart(2, "0");
  if (step < 1000) return `${(offset / 1000).toFixed(step < 10 ? 3 : step < 100 ? 2 : 1)}s`;
  if (offset < 60_000) return `${offset / 1000}s`;
  if (step < 60_000) return `${Math.floor(offset / 60_000)}m${two((offset / 1000) % 60)}s`;
  if (offset < 3_600_000) return `${offset / 60_000}m`;
  return `${Math.floor(offset / 3_600_000)}h${two((offset / 60_000) % 60)}m`;
}

function legend(states: readonly string[]): { svg: string; height: number } {
  let x = LABEL;
  let y = 0;
  const items = states.map((state) => {
    const w = 28 + state.length * 7;
    if (x + w > WIDTH - RIGHT) [x, y] = [LABEL, y + 18];
    const item = `<g class="legend-item" data-state="${escapeHtml(state)}"><rect x="${x}" y="${y + 2}" width="14" height="12" rx="2" fill="${fill(state)}" stroke="#555" stroke-width="0.5"/><text x="${x + 18}" y="${y + 12}">${escapeHtml(state)}</text></g>`;
    x += w;
    return item;
  });
  return { svg: `<g id="legend"><text x="8" y="12" class="group">Legend</text>${items.join("")}</g>`, height: y + 24 };
}

function axis(report: Report, top: number, bottom: number): string {
  const span = Math.max(1, report.end - report.start);
  const step = tickStep(span);
  const ticks: string[] = [];
  for (let t = 0; t <= span; t += step) {
    const x = (LABEL + (t / span) * CHART).toFixed(1);
    ticks.push(`<line class="grid" x1="${x}" y1="${top}" x2="${x}" y2="${bottom}"/><text class="tick" x="${x}" y="${top - 4}" text-anchor="middle">${tickLabel(t, step)}</text>`);
  }
  return `<g id="axis"><line class="axis" x1="${LABEL}" y1="${top}" x2="${LABEL + CHART}" y2="${top}"/>${ticks.join("")}</g>`;
}

function laneLabel(lane: Lane, report: Report): string {
  if (lane.kind !== "session") return lane.name;
  const role = report.sessions.find((s) => s.id === lane.name)?.role;
  return role === null || role === undefined ? lane.name : `${lane.name} (${role})`;
}

function laneRow(lane: Lane, report: Report, y: number): string {
  const span = Math.max(1, report.end - report.start);
  const key = `${lane.kind}/${lane.name}`;
  const label = laneLabel(lane, report);
  const shown = label.length > 38 ? `${label.slice(0, 37)}…` : label;
  const bars = lane.intervals.map((i) => {
    const x = LABEL + ((i.start - report.start) / span) * CHART;
    const w = Math.max(1, ((i.end - i.start) / span) * CHART);
    const tip = `${key}: ${i.state}\nstart ${new Date(i.start).toISOString()} (+${formatDuration(i.start - report.start)})\nduration ${formatDuration(i.end - i.start)}`;
    return `<rect class="bar" data-lane="${escapeHtml(key)}" data-state="${escapeHtml(i.state)}" x="${x.toFixed(1)}" y="${y + (ROW - BAR) / 2}" width="${w.toFixed(1)}" height="${BAR}" fill="${fill(i.state)}"><title>${escapeHtml(tip)}</title></rect>`;
  });
  return `<g class="lane" data-lane="${escapeHtml(key)}"><text class="label" x="${LABEL - 8}" y="${y + 14}" text-anchor="end"><title>${escapeHtml(label)}</title>${escapeHtml(shown)}</text>${bars.join("")}</g>`;
}

/** The `<svg id="timeline">` element for a report. */
export function renderTimeline(report: Report): string {
  const states = [...new Set(report.lanes.flatMap((l) => l.intervals.map((i) => i.state)))];
  const key = legend(states);
  const axisTop = key.height + 22;
  let y = axisTop + 6;
  const rows: string[] = [];
  for (const [kind, title] of [["stage", "Stages"], ["task", "Tasks"], ["session", "Sessions"]] as const) {
    const lanes = report.lanes.filter((l) => l.kind === kind);
    rows.push(`<g class="group" data-group="${kind}"><text class="group" x="8" y="${y + 16}">${title} (${lanes.length})</text>`);
    y += GROUP;
    for (const lane of lanes) {
      rows.push(laneRow(lane, report, y));
      y += ROW;
    }
    rows.push(`</g>`);
  }
  const height = y + 8;
  const defs = `<defs><pattern id="paused" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#e2d4f3"/><rect width="3" height="6" fill="#8e44ad"/></pattern></defs>`;
  return `<svg id="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" role="img" aria-label="timeline of stages, tasks and sessions">${defs}${key.svg}${axis(report, axisTop, height)}${rows.join("")}</svg>`;
}
