/**
 * Pure, one event at a time: waits that run from one event to another (a
 * task entering Merging until its merge starts; a capacity wait until a slot
 * is reserved). Events must come in time order; memory holds only the open
 * waits and the names seen, never the events.
 */
import { ms } from "./report-intervals.js";

/** Time waited in total, how many waits, and who waited. */
export interface Wait {
  ms: number;
  count: number;
  readonly names: Set<string>;
}

/** What the report reads of an event. */
export interface FoldEvent {
  readonly at: string;
  readonly action: string;
  readonly subject: string;
  readonly payload: Readonly<Record<string, unknown>>;
}

/** Which wait an event opens (its key) and which it closes. */
type Step = (e: FoldEvent) => { readonly open?: string; readonly close?: readonly string[] };

/** `from`..`to` pairs matched per key; one still open at the end lasts until `now`. Key `name\0detail` counts for `name`. */
export class PairWait {
  private readonly open = new Map<string, number>();
  private readonly wait: Wait = { ms: 0, count: 0, names: new Set() };

  constructor(private readonly step: Step) {}

  /** Takes the next event (in time order). */
  add(e: FoldEvent): void {
    const { open: start, close } = this.step(e);
    if (close !== undefined) for (const key of close) if (this.open.has(key)) this.end(key, ms(e.at));
    if (start !== undefined && !this.open.has(start)) this.open.set(start, ms(e.at));
  }

  /** Closes what is still open at `now`; returns the total. */
  finish(now: number): Wait {
    for (const key of [...this.open.keys()]) this.end(key, now);
    return this.wait;
  }

  private end(key: string, at: number): void {
    this.wait.ms += at - this.open.get(key)!;
    this.wait.count += 1;
    this.wait.names.add(key.split("\0")[0]!);
    this.open.delete(key);
  }
}

const taskOf = (subject: string): string | null => (subject.startsWith("task/") ? subject.slice(5) : null);

/** What most events step to: no wait opens or closes (one object, not one per event). */
const NOTHING: { readonly open?: string; readonly close?: readonly string[] } = Object.freeze({});

/** Merge-queue wait: the task enters Merging until its MergeStarted (or it leaves Merging first). */
export function mergeQueueWait(taskInStage: (task: string) => boolean): PairWait {
  return new PairWait((e) => {
    if (e.action !== "MergeStarted" && e.action !== "TaskPhaseChanged") return NOTHING;
    const task = taskOf(e.subject);
    if (task === null || !taskInStage(task)) return NOTHING;
    if (e.action === "MergeStarted") return { close: [task] };
    return e.payload.to === "Merging" ? { open: task } : { close: [task] };
  });
}

/** Capacity wait: a task's CapacityWait until a slot is reserved for the same task and role. */
export function capacityWait(taskInStage: (task: string) => boolean): PairWait {
  return new PairWait((e) => {
    if (e.action !== "CapacityWait" && e.action !== "CapacityReserved") return NOTHING;
    const task = taskOf(e.subject);
    if (task === null || !taskInStage(task)) return NOTHING;
    const key = `${task}\0${String(e.payload.role)}`;
    return e.action === "CapacityWait" ? { open: key } : { close: [key] };
  });
}
