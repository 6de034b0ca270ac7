/**
 * Pure: the timeline's colours and its legend. Colours come from the
 * Okabe-Ito palette (distinguishable with the common colour-vision
 * deficiencies) and Paul Tol's muted set, with greys for idle states; every
 * state is also named in text (legend, bar labels, tooltips), so colour is
 * never the only cue. Within a group (stages, tasks, sessions, gate runs)
 * each state has its own colour.
 */
import { escapeHtml } from "./html-escape.js";

/** A legend group: the lane kind it colours, or the gate runs. */
export type LegendGroup = "stage" | "task" | "session" | "gate";

/** What time in a state is: work done, a wait, a finished end, a problem, or nothing happening. */
export type StateKind = "work" | "wait" | "done" | "problem" | "idle";

interface StateStyle {
  readonly fill: string;
  readonly kind: StateKind;
  /** Legend text when it says more than the state's name. */
  readonly label?: string;
}

const PAUSED: StateStyle = { fill: "url(#paused)", kind: "wait" };
const PENDING: StateStyle = { fill: "#DDDDDD", kind: "wait" };

/** Colour and meaning of every known state, per group, in the order the legend lists them. */
export const PALETTE: Readonly<Record<LegendGroup, Readonly<Record<string, StateStyle>>>> = {
  stage: {
    Pending: PENDING, Proposed: { fill: "#56B4E9", kind: "wait" }, AwaitingApproval: { fill: "#E69F00", kind: "wait" },
    Blocked: { fill: "#CC79A7", kind: "problem" }, Running: { fill: "#0072B2", kind: "work" }, Gating: { fill: "#009E73", kind: "work" },
    Passed: { fill: "#004D40", kind: "done" }, Failed: { fill: "#D55E00", kind: "problem" }, Paused: PAUSED,
  },
  task: {
    Pending: PENDING, Provisioning: { fill: "#88CCEE", kind: "work" }, Working: { fill: "#0072B2", kind: "work" },
    Committing: { fill: "#332288", kind: "work" }, Gating: { fill: "#009E73", kind: "work" }, Merging: { fill: "#CC79A7", kind: "work" },
    Conflict: { fill: "#E69F00", kind: "problem" }, Resolving: { fill: "#F0E442", kind: "work" }, Merged: { fill: "#004D40", kind: "done" },
    Failed: { fill: "#D55E00", kind: "problem" }, Cancelled: { fill: "#999999", kind: "done" }, Paused: PAUSED,
  },
  session: {
    starting: { fill: "#88CCEE", kind: "work", label: "starting (start-up)" }, running: { fill: "#0072B2", kind: "work", label: "running (busy)" },
    idle: { fill: "#DDDDDD", kind: "idle" }, waiting: { fill: "#E69F00", kind: "wait", label: "waiting (asks a person)" },
    error: { fill: "#D55E00", kind: "problem", label: "error (error screen)" }, unknown: { fill: "#882255", kind: "problem", label: "unknown (stuck)" },
    paused: PAUSED,
  },
  gate: {
    passed: { fill: "#009E73", kind: "work", label: "passed ✓" }, failed: { fill: "#D55E00", kind: "work", label: "failed ✗" },
    running: { fill: "#F0E442", kind: "work", label: "running …" },
  },
};

const OTHER: StateStyle = { fill: "#777777", kind: "idle" };

/** The style of a state in a group (an unlisted state is mid grey). */
export function styleOf(group: LegendGroup, state: string): StateStyle {
  return PALETTE[group][state] ?? OTHER;
}

/** Black or white, whichever reads better on `fill` (WCAG relative luminance). */
export function textColourOn(fill: string): string {
  if (!/^#[0-9a-f]{6}$/i.test(fill)) return "#000000";
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = parseInt(fill.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  return luminance > 0.22 ? "#000000" : "#FFFFFF";
}

/** CSS background for a legend swatch (the paused stripes as a gradient, since HTML cannot use the SVG pattern). */
function swatchBackground(fill: string): string {
  return fill === "url(#paused)" ? "repeating-linear-gradient(45deg, #5D3A9B 0 3px, #E8DDF5 3px 6px)" : fill;
}

const TITLES: Readonly<Record<LegendGroup, string>> = { stage: "Stages", task: "Tasks", session: "Sessions", gate: "Gate runs (work)" };

/**
 * The legend as HTML: one group per lane kind (and the gate runs), each entry
 * a swatch, the state's name and what the time is (work, wait...). Only
 * states that occur are listed; `used` maps a group to them.
 */
export function renderLegend(used: ReadonlyMap<LegendGroup, ReadonlySet<string>>): string {
  const groups = (Object.keys(TITLES) as LegendGroup[]).map((group) => {
    const seen = used.get(group) ?? new Set<string>();
    if (seen.size === 0) return "";
    const ordered = [...Object.keys(PALETTE[group]).filter((s) => seen.has(s)), ...[...seen].filter((s) => PALETTE[group][s] === undefined).sort()];
    const items = ordered.map((state) => {
      const style = styleOf(group, state);
      return `<li class="legend-item" data-group="${group}" data-state="${escapeHtml(state)}" data-fill="${escapeHtml(style.fill)}" data-kind="${style.kind}"><span class="swatch" style="background:${swatchBackground(style.fill)}"></span>${escapeHtml(style.label ?? state)} <span class="kind">${style.kind}</span></li>`;
    });
    return `<div class="legend-group" data-group="${group}"><div class="legend-title">${TITLES[group]}</div><ul>${items.join("")}</ul></div>`;
  });
  return `<div id="legend">${groups.join("")}</div>`;
}

/** The `<defs>` every timeline SVG needs (the paused stripes). */
export const PATTERN_DEFS = `<defs><pattern id="paused" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#E8DDF5"/><rect width="3" height="6" fill="#5D3A9B"/></pattern></defs>`;
