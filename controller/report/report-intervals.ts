/** Pure interval arithmetic for the report: stretches of time in one state. */

/** One stretch of time in one state (epoch ms, end exclusive). */
export interface Interval {
  readonly state: string;
  readonly start: number;
  readonly end: number;
}

let lastIso = "";
let lastMs = Number.NaN;

/** Epoch ms of an ISO time. The report's folds parse each event's time in turn, so the last answer is kept. */
export function ms(iso: string): number {
  if (iso !== lastIso) [lastIso, lastMs] = [iso, Date.parse(iso)];
  return lastMs;
}

/** Turns "changed to X at t" records into intervals ending at the next change (or `end`); empty ones dropped. */
export function intervalsOf(changes: readonly { readonly at: number; readonly state: string }[], end: number): Interval[] {
  const sorted = [...changes].sort((a, b) => a.at - b.at);
  return sorted.map((c, i) => ({ state: c.state, start: c.at, end: Math.max(c.at, sorted[i + 1]?.at ?? end) })).filter((i) => i.end > i.start);
}

/** Summed length of the intervals in `state`. */
export function total(intervals: readonly Interval[], state: string): number {
  return intervals.filter((i) => i.state === state).reduce((n, i) => n + (i.end - i.start), 0);
}

/** Merges overlapping or touching intervals into a sorted, disjoint list (state of the first kept). */
export function union(intervals: readonly Interval[]): Interval[] {
  const sorted = [...intervals].filter((i) => i.end > i.start).sort((a, b) => a.start - b.start);
  const out: Interval[] = [];
  for (const i of sorted) {
    const last = out.at(-1);
    if (last !== undefined && i.start <= last.end) out[out.length - 1] = { ...last, end: Math.max(last.end, i.end) };
    else out.push(i);
  }
  return out;
}

/**
 * Replaces whatever `intervals` say during the pauses (clipped to start..stop)
 * with `paused`, so every millisecond is in exactly one state.
 */
export function carvePauses(intervals: readonly Interval[], pauses: readonly Interval[], start: number, stop: number): Interval[] {
  const cuts = union(pauses.map((p) => ({ state: "paused", start: Math.max(p.start, start), end: Math.min(p.end, stop) })));
  if (cuts.length === 0) return [...intervals];
  const out: Interval[] = [...cuts];
  for (const i of intervals) {
    let from = i.start;
    for (const c of cuts) {
      if (c.end <= from || c.start >= i.end) continue;
      if (c.start > from) out.push({ state: i.state, start: from, end: c.start });
      from = Math.max(from, c.end);
    }
    if (from < i.end) out.push({ state: i.state, start: from, end: i.end });
  }
  return out.sort((a, b) => a.start - b.start);
}
