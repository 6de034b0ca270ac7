import type { NewTmuxSession, PaneState, ScreenActivity, Tmux } from "../ports.js";

/** A tmux server that may report pane activity (WatchedTmux), or a plain one. */
export type TmuxServer = Tmux & Partial<ScreenActivity> & { watch?(name: string): Promise<boolean>; isWatching?(name: string): boolean };

/** How often a session on a host whose notifications stopped (a lost link) is offered to its control client again. */
const REWATCH_MS = 5000;

/**
 * The Tmux port over this machine's tmux server and one per agent host: a
 * session is driven on the server it was started on (`NewTmuxSession.host`),
 * found after a restart through `locate` (the ledger). One socket name, many
 * servers; names are unique across them (they carry a random suffix).
 */
export class HostTmux implements Tmux, ScreenActivity {
  readonly socket: string;
  private readonly placed = new Map<string, string | null>();
  private readonly rewatched = new Map<string, number>();

  /** `serverOf(null)` is this machine's server; `locate` says which host a session is on (null: here). */
  constructor(private readonly options: { readonly local: TmuxServer; readonly serverOf: (host: string) => TmuxServer; readonly hosts: readonly string[]; readonly locate: (name: string) => Promise<string | null> }) {
    this.socket = options.local.socket;
  }

  /** The host of a session (located once, then remembered; null: this machine). */
  private async place(name: string): Promise<string | null> {
    let host = this.placed.get(name);
    if (host === undefined) {
      host = await this.options.locate(name);
      if (host !== null && !this.options.hosts.includes(host)) host = null;
      this.placed.set(name, host);
      // A session found on a host (adopted after a restart) is followed there by notification.
      if (host !== null) void this.options.serverOf(host).watch?.(name).catch(() => false);
    }
    return host;
  }

  /** The server of a session. */
  private async on(name: string): Promise<TmuxServer> {
    const host = await this.place(name);
    return host === null ? this.options.local : this.options.serverOf(host);
  }

  /** The server of a session when already known (sync callers: a session not placed yet is polled). */
  private known(name: string): TmuxServer | undefined {
    const host = this.placed.get(name);
    return host === undefined ? undefined : host === null ? this.options.local : this.options.serverOf(host);
  }

  /** The host a session runs on, null for this machine, undefined when not known yet. */
  hostOf(name: string): string | null | undefined {
    return this.placed.get(name);
  }

  /** Starts the session on `spec.host`; left out (a restart in place), on the host the session was on. */
  async newSession(spec: NewTmuxSession): Promise<void> {
    const host = spec.host !== undefined ? spec.host : await this.place(spec.name);
    this.placed.set(spec.name, host);
    await (host === null ? this.options.local : this.options.serverOf(host)).newSession(spec);
  }
  async hasSession(name: string): Promise<boolean> {
    return (await this.on(name)).hasSession(name);
  }
  /** Sessions of every server; a host that cannot be reached is left out (its sessions are not gone: they are asked for by name). */
  async listSessions(): Promise<string[]> {
    const servers = [this.options.local, ...this.options.hosts.map((h) => this.options.serverOf(h))];
    const lists = await Promise.all(servers.map((s, i) => (i === 0 ? s.listSessions() : s.listSessions().catch(() => []))));
    return lists.flat();
  }
  async paneState(name: string): Promise<PaneState | null> {
    return (await this.on(name)).paneState(name);
  }
  async capturePane(name: string, lines: number): Promise<string> {
    return (await this.on(name)).capturePane(name, lines);
  }
  async snapshot(name: string, lines: number): Promise<{ readonly pane: PaneState; readonly screen: string } | null> {
    const server = await this.on(name);
    const snap = await server.snapshot(name, lines);
    // The host answers again after a lost link: follow the session by notification again (polled until then).
    if (snap !== null && server !== this.options.local && server.isWatching?.(name) === false && Date.now() - (this.rewatched.get(name) ?? 0) > REWATCH_MS) {
      this.rewatched.set(name, Date.now());
      void server.watch?.(name).catch(() => false);
    }
    return snap;
  }
  async pasteText(name: string, text: string): Promise<void> {
    return (await this.on(name)).pasteText(name, text);
  }
  async sendEnter(name: string): Promise<void> {
    return (await this.on(name)).sendEnter(name);
  }
  async killSession(name: string): Promise<boolean> {
    return (await this.on(name)).killSession(name);
  }
  async killServer(): Promise<void> {
    await Promise.all([this.options.local, ...this.options.hosts.map((h) => this.options.serverOf(h))].map((s) => s.killServer()));
  }
  attachArgv(name: string): string[] {
    return (this.known(name) ?? this.options.local).attachArgv(name);
  }
  /** Follows an adopted session's output on its own server. */
  async watch(name: string): Promise<boolean> {
    const server = await this.on(name);
    return server.watch === undefined ? false : server.watch(name);
  }

  changedSince(session: string, since: number): boolean {
    return this.known(session)?.changedSince?.(session, since) ?? true;
  }
  nextChange(session: string, since: number, maxMs: number): Promise<void> {
    const server = this.known(session);
    if (server?.nextChange !== undefined) return server.nextChange(session, since, maxMs);
    return new Promise((resolve) => setTimeout(resolve, Math.min(maxMs, 500))); // not placed or no notifications: poll
  }
  wakeAll(): void {
    for (const server of [this.options.local, ...this.options.hosts.map((h) => this.options.serverOf(h))]) server.wakeAll?.();
  }
  wakeSession(session: string): void {
    this.known(session)?.wakeSession?.(session);
  }
}
