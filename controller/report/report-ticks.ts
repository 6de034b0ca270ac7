/** Pure: durations and time-axis ticks for the HTML report. */

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
  if (step % 86_400_000 === 0) return `${offset / 86_400_000}d`;
  return `${Math.floor(offset / 3_600_000)}h${two((offset / 60_000) % 60)}m`;
}
