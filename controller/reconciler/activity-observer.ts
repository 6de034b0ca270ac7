/**
 * Turns pane notifications into looks: a session whose pane printed or died
 * is looked at at once when it was quiet, then at most once per
 * `throttleMs` while its output goes on, and once more after the last burst.
 * A busy agent prints many times a second; its status needs one look per
 * burst, not one per line.
 */
export class ActivityObserver {
  private readonly keys = new Map<string, { running: boolean; again: boolean; lastAt: number; timer: NodeJS.Timeout | null }>();
  private readonly inFlight = new Set<Promise<void>>();
  /** Looks a screen's timing asked for (idle after N ms of silence). */
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  /**
   * `look` is called with the key given to `poke`, never twice at once for
   * one key; its errors are its own to log. It may answer a delay in ms: the
   * screen's status depends on time (idle after N ms of silence), so the key
   * is poked again then, output or not.
   */
  constructor(
    private readonly look: (key: string) => Promise<number | null | void>,
    private readonly throttleMs = 500,
  ) {}

  /** Something happened to `key`: look now, or after the throttle when a look just ran or is running. */
  poke(key: string): void {
    if (this.closed) return;
    let entry = this.keys.get(key);
    if (entry === undefined) this.keys.set(key, (entry = { running: false, again: false, lastAt: 0, timer: null }));
    if (entry.running) {
      entry.again = true;
      return;
    }
    if (entry.timer !== null) return; // a look is already due
    const waitMs = entry.lastAt + this.throttleMs - Date.now();
    if (waitMs <= 0) this.run(key);
    else entry.timer = setTimeout(() => this.run(key), waitMs);
  }

  private run(key: string): void {
    const entry = this.keys.get(key);
    if (entry === undefined || this.closed) return;
    entry.timer = null;
    entry.again = false;
    entry.running = true;
    entry.lastAt = Date.now();
    const done = this.look(key)
      .then((againInMs) => {
        if (typeof againInMs !== "number" || this.closed) return;
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          this.poke(key);
        }, againInMs);
        this.timers.add(timer);
      })
      .catch(() => undefined)
      .finally(() => {
        entry.running = false;
        this.inFlight.delete(done);
        if (entry.again) this.poke(key);
        else this.forgetLater(key, entry);
      });
    this.inFlight.add(done);
  }

  /** Drops a quiet key once its throttle window has passed (the next poke then looks at once). */
  private forgetLater(key: string, entry: { readonly running: boolean; readonly lastAt: number; readonly timer: NodeJS.Timeout | null }): void {
    setTimeout(() => {
      const quiet = !entry.running && entry.timer === null && Date.now() - entry.lastAt >= this.throttleMs;
      if (quiet && this.keys.get(key) === entry) this.keys.delete(key);
    }, this.throttleMs).unref();
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
