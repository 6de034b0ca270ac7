import type { Logger } from "pino";
import type { ResolvedHost } from "../core/hosts.js";
import type { NewTmuxSession, PaneActivity, PaneState, ScreenActivity, Tmux } from "../ports.js";
import { TmuxAdapter } from "./tmux.js";
import { TmuxControlClient } from "./tmux-control.js";

/**
 * The Tmux port with notifications: every session it starts (or adopts with
 * `watch`) is followed by one control-mode client, and `changedSince` tells
 * the session service whether a capture can be skipped. When control mode is
 * unavailable, or the server died, it answers "changed" (polling) and says so
 * in the log; the client is started again with the next session.
 */
/** How often an unwatched session is looked at while it waits (notifications off). */
const UNWATCHED_POLL_MS = 500;
/** First wait before a given-up control client is started again; doubled on each failure up to RECONNECT_MAX_MS. */
const RECONNECT_MIN_MS = 1000;
const RECONNECT_MAX_MS = 30_000;

export class WatchedTmux implements Tmux, ScreenActivity {
  readonly socket: string;
  private readonly inner: TmuxAdapter;
  private control: TmuxControlClient | null = null;
  private starting: Promise<TmuxControlClient | null> | null = null;
  private readonly deadAt = new Map<string, number>();
  private readonly watched = new Set<string>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly logger: Logger;

  private readonly commandTimeoutMs: number | undefined;

  private readonly host: ResolvedHost | null;

  private readonly notifications: boolean;

  /** `host`: an agent host's tmux (over ssh); left out, this machine's. `notifications: false` polls every session. */
  constructor(options: { readonly socket: string; readonly logger: Logger; readonly commandTimeoutMs?: number; readonly host?: ResolvedHost | null; readonly notifications?: boolean }) {
    this.socket = options.socket;
    this.commandTimeoutMs = options.commandTimeoutMs;
    this.host = options.host ?? null;
    this.inner = new TmuxAdapter({ socket: options.socket, host: this.host });
    this.logger = options.logger.child({ host: this.host?.name ?? "local" });
    this.notifications = options.notifications !== false;
    if (!this.notifications) this.logger.info({ socket: this.socket }, "tmux notifications off: sessions are polled");
  }

  /** The live control client, starting one when there is a server to attach to; null means polling. */
  private async client(): Promise<TmuxControlClient | null> {
    if (this.control !== null) return this.control;
    if (!this.notifications) return null;
    this.starting ??= this.startClient().finally(() => {
      this.starting = null;
    });
    return this.starting;
  }

  private async startClient(): Promise<TmuxControlClient | null> {
    const client = new TmuxControlClient({ socket: this.socket, host: this.host, ...(this.commandTimeoutMs === undefined ? {} : { commandTimeoutMs: this.commandTimeoutMs }) });
    client.on("output", (session: string) => this.wake(session, true));
    client.on("paneDead", (session, at) => {
      this.deadAt.set(session, at);
      this.wake(session, true);
    });
    client.on("serverExited", (reason) => {
      if (this.control === client) this.control = null;
      const followed = [...this.watched];
      for (const name of followed) this.lost.add(name);
      this.watched.clear();
      // What happened to them meanwhile went unnotified: each is looked at now (a dead server is every session's crash).
      for (const name of followed) this.wake(name, true);
      this.wakeAll();
      this.logger.warn({ socket: this.socket, reason }, "tmux notifications stopped; sessions are polled until a control client follows them again");
      this.reconnectLater();
    });
    try {
      await client.start();
    } catch (error) {
      this.logger.warn({ socket: this.socket, err: error }, "tmux control mode unavailable; sessions are polled");
      return null;
    }
    this.control = client;
    this.logger.debug({ socket: this.socket }, "tmux control client attached");
    return client;
  }

  /** Sessions followed when notifications stopped: followed again once a control client attaches. */
  private readonly lost = new Set<string>();
  private reconnectTimer: NodeJS.Timeout | null = null;
  private reconnectMs = RECONNECT_MIN_MS;
  /** Bumped by close(): a reconnection begun before it does nothing after it. */
  private generation = 0;

  /**
   * A control client that was given up (a server frozen past the command
   * timeout, a client killed) is started again with backoff while sessions
   * it followed still exist; each is followed again and looked at once (its
   * output in between was not notified). A server that died with its
   * sessions is not started again here: the next session starts it.
   */
  private reconnectLater(): void {
    if (this.reconnectTimer !== null || this.lost.size === 0) return;
    const generation = this.generation;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.reconnect(generation).catch((error: unknown) => this.logger.warn({ socket: this.socket, err: error }, "tmux notifications: reconnecting failed"));
    }, this.reconnectMs);
    this.reconnectTimer.unref();
  }

  private async reconnect(generation: number): Promise<void> {
    const alive = new Set(await this.inner.listSessions().catch(() => []));
    if (generation !== this.generation) return;
    for (const name of [...this.lost]) if (!alive.has(name)) this.lost.delete(name);
    if (this.lost.size === 0) return;
    if ((await this.client()) === null || generation !== this.generation) {
      this.reconnectMs = Math.min(this.reconnectMs * 2, RECONNECT_MAX_MS);
      this.reconnectLater();
      return;
    }
    const names = [...this.lost];
    this.lost.clear();
    for (const name of names) if (await this.watch(name)) this.wake(name, true);
    this.reconnectMs = RECONNECT_MIN_MS;
    this.logger.info({ socket: this.socket, sessions: names.length }, "tmux notifications resumed");
  }

  /** Follows an existing session's output and exit (adoption after a restart); false when it is gone or notifications are off. */
  async watch(name: string): Promise<boolean> {
    const client = await this.client();
    if (client === null) return false;
    const ok = await client.watch(name);
    if (ok) this.watched.add(name);
    return ok;
  }

  /** Whether notifications follow this session now (false after the server or the link was lost, until watched again). */
  isWatching(name: string): boolean {
    return this.control !== null && this.watched.has(name);
  }

  changedSince(session: string, since: number): boolean {
    const client = this.control;
    if (client === null || !this.watched.has(session)) return true;
    return (client.lastOutputAt(session) ?? 0) > since || (this.deadAt.get(session) ?? 0) > since;
  }

  nextChange(session: string, since: number, maxMs: number): Promise<void> {
    if (this.changedSince(session, since)) {
      // Unwatched (no notifications): a changed answer is a guess, so poll instead of spinning.
      const watched = this.control !== null && this.watched.has(session);
      return watched ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, Math.min(maxMs, UNWATCHED_POLL_MS)));
    }
    return new Promise((resolve) => {
      let set = this.waiters.get(session);
      if (set === undefined) this.waiters.set(session, (set = new Set()));
      const done = (): void => {
        clearTimeout(timer);
        set.delete(done);
        resolve();
      };
      const timer = setTimeout(done, maxMs);
      set.add(done);
    });
  }

  wakeAll(): void {
    for (const session of [...this.waiters.keys()]) this.wake(session);
  }

  wakeSession(session: string): void {
    this.wake(session);
  }

  /** Over the control connection; an empty map when there is none (then nothing is vouched for). */
  async paneActivity(): Promise<ReadonlyMap<string, PaneActivity>> {
    return (await this.control?.paneActivity().catch(() => null)) ?? new Map();
  }

  /** Calls `listener` with the session's name whenever a watched pane prints or dies; returns the unsubscribe. */
  onActivity(listener: (session: string) => void): () => void {
    this.activityListeners.add(listener);
    return () => this.activityListeners.delete(listener);
  }

  private readonly activityListeners = new Set<(session: string) => void>();

  private wake(session: string, activity = false): void {
    if (activity) for (const listener of this.activityListeners) listener(session);
    const set = this.waiters.get(session);
    if (set === undefined) return;
    this.waiters.delete(session);
    for (const done of set) done();
  }

  async newSession(spec: NewTmuxSession): Promise<void> {
    this.deadAt.delete(spec.name);
    await this.inner.newSession(spec);
    await this.watch(spec.name);
  }

  async killSession(name: string): Promise<boolean> {
    this.watched.delete(name);
    this.wake(name);
    await this.control?.unwatch(name);
    return this.inner.killSession(name);
  }

  async killServer(): Promise<void> {
    await this.close();
    await this.inner.killServer();
  }

  /** Detaches the control client (the sessions and the control session stay). */
  async close(): Promise<void> {
    this.generation++;
    this.lost.clear();
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const client = this.control;
    this.control = null;
    this.watched.clear();
    this.wakeAll();
    await client?.close();
  }

  hasSession(name: string): Promise<boolean> {
    return this.inner.hasSession(name);
  }
  listSessions(): Promise<string[]> {
    return this.inner.listSessions();
  }
  async paneState(name: string): Promise<PaneState | null> {
    const seen = await this.overControl(name, 1);
    return seen === undefined ? this.inner.paneState(name) : (seen?.pane ?? null);
  }
  async capturePane(name: string, lines: number): Promise<string> {
    const seen = await this.overControl(name, lines);
    // A session gone is the plain call's error (capturePane throws for it).
    return seen === undefined || seen === null ? this.inner.capturePane(name, lines) : seen.screen;
  }
  /** Over the control connection when the session is watched (no tmux process per look), else one tmux call. */
  async snapshot(name: string, lines: number): Promise<{ readonly pane: PaneState; readonly screen: string } | null> {
    const seen = await this.overControl(name, lines);
    return seen === undefined ? this.inner.snapshot(name, lines) : seen;
  }

  /**
   * A look over the control connection when the session is watched (a crash
   * check or a capture then starts no tmux process: under load each costs
   * tens of ms); undefined when it must be a plain tmux call, including a
   * connection that failed (abandoned, server gone): a look is never lost.
   */
  private async overControl(name: string, lines: number): Promise<{ readonly pane: PaneState; readonly screen: string } | null | undefined> {
    const client = this.control;
    if (client === null || !this.watched.has(name)) return undefined;
    return client.snapshot(name, lines).catch(() => undefined);
  }
  pasteText(name: string, text: string): Promise<void> {
    return this.inner.pasteText(name, text);
  }
  sendEnter(name: string): Promise<void> {
    return this.inner.sendEnter(name);
  }
  attachArgv(name: string): string[] {
    return this.inner.attachArgv(name);
  }
}
