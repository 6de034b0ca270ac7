/** What a look at a session found, as far as the observer cares. */
export interface LookResult {
  /** The screen's status depends on time (idle after N ms of silence): look again after this long, output or not. */
  readonly againInMs: number | null;
  /** The agent is working: its output rarely changes the status until it stops, so looks can be sparser. */
  readonly busy: boolean;
  /** Nothing can change without a notification or a ledger write (see HealthReport.quiet). */
  readonly quiet?: boolean;
}

interface Entry {
  running: boolean;
  again: boolean;
  lastAt: number;
  busy: boolean;
  /** Looks since the key was last quiet: the quiet throttle doubles with each, up to the busy one. */
  streak: number;
  /** When the pane last printed (the last poke): a pane silent for a whole window is quiet again. */
  outputAt: number;
  timer: NodeJS.Timeout | null;
}

/**
 * Turns pane notifications into looks. A session whose pane printed or died
 * is looked at at once when it was quiet; while output goes on it is looked
 * at again after `quietThrottleMs`, then after twice that, and so on (the
 * status usually changes in the first milliseconds of a burst: a prompt's
 * echo, then the agent's busy line), until a look finds the agent working:
 * then at most every `busyThrottleMs` (a working agent prints many times a
 * second, and its status needs one look per burst, not per line). One more
 * look follows the last output. A pane silent for a whole window, or for
 * `quietGapMs` (a working agent's window is long), is quiet again, whatever
 * looks its timing asked for meanwhile: its next output is looked at at once
 * (output after a silence is what changes a status: the agent finished, a
 * person typed into it the moment it was recorded idle).
 */
export class ActivityObserver {
  private readonly keys = new Map<string, Entry>();
  private readonly inFlight = new Set<Promise<void>>();
  /** Looks a screen's timing asked for (idle after N ms of silence). */
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  /** `look` is called with the key given to `poke`, never twice at once for one key; its errors are its own to log. */
  constructor(
    private readonly look: (key: string) => Promise<LookResult | null>,
    private readonly options: { readonly quietThrottleMs: number; readonly busyThrottleMs: number; readonly quietGapMs: number } = { quietThrottleMs: 20, busyThrottleMs: 500, quietGapMs: 250 },
  ) {}

  /** `key`'s pane printed or died: look now, or when its throttle window ends. */
  poke(key: string): void {
    if (this.closed) return;
    const entry = this.entryOf(key);
    const now = Date.now();
    if (now - entry.outputAt >= Math.min(this.throttleOf(entry), this.options.quietGapMs)) {
      entry.streak = 0;
      entry.lastAt = 0;
      // A look the screen's timing asked for may wait for the end of a window: this output is looked at now.
      if (entry.timer !== null) clearTimeout(entry.timer);
      entry.timer = null;
    }
    entry.outputAt = now;
    this.schedule(key, entry);
  }

  private entryOf(key: string): Entry {
    let entry = this.keys.get(key);
    if (entry === undefined) this.keys.set(key, (entry = { running: false, again: false, lastAt: 0, busy: false, streak: 0, outputAt: 0, timer: null }));
    return entry;
  }

  private schedule(key: string, entry: Entry): void {
    if (entry.running) {
      entry.again = true;
      return;
    }
    if (entry.timer !== null) return; // a look is already due
    const waitMs = entry.lastAt + this.throttleOf(entry) - Date.now();
    if (waitMs <= 0) this.run(key, entry);
    else entry.timer = setTimeout(() => this.run(key, entry), waitMs);
  }

  private throttleOf(entry: Entry): number {
    const { quietThrottleMs, busyThrottleMs } = this.options;
    return entry.busy ? busyThrottleMs : Math.min(quietThrottleMs * 2 ** Math.max(0, entry.streak - 1), busyThrottleMs);
  }

  private run(key: string, entry: Entry): void {
    if (this.closed || this.keys.get(key) !== entry) return;
    entry.timer = null;
    entry.again = false;
    entry.running = true;
    entry.streak++;
    entry.lastAt = Date.now();
    const done = this.look(key)
      .then((result) => {
        const busy = result?.busy ?? false;
        if (entry.busy && !busy) entry.streak = 0; // the agent stopped working: its next screens matter again (a question, a prompt)
        entry.busy = busy;
        if (result?.againInMs != null) this.pokeLater(key, result.againInMs);
      })
      .catch(() => undefined)
      .finally(() => {
        entry.running = false;
        this.inFlight.delete(done);
        if (entry.again) this.schedule(key, entry);
        else this.forgetLater(key, entry);
      });
    this.inFlight.add(done);
  }

  private pokeLater(key: string, delayMs: number): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.closed) this.schedule(key, this.entryOf(key));
    }, delayMs);
    this.timers.add(timer);
  }

  /** Drops a quiet key once its throttle window has passed (the next poke then looks at once). */
  private forgetLater(key: string, entry: Entry): void {
    const windowMs = this.throttleOf(entry);
    setTimeout(() => {
      const quiet = !entry.running && entry.timer === null && Date.now() - entry.lastAt >= windowMs;
      if (quiet && this.keys.get(key) === entry) this.keys.delete(key);
    }, windowMs).unref();
  }

  /** Stops every pending look and waits for the running ones. */
  async close(): Promise<void> {
    this.closed = true;
    for (const entry of this.keys.values()) if (entry.timer !== null) clearTimeout(entry.timer);
    for (const timer of this.timers) clearTimeout(timer);
    this.keys.clear();
    await Promise.all([...this.inFlight]);
  }
}
