import { execa, type ResultPromise } from "execa";
import { EventEmitter } from "node:events";
import { createInterface } from "node:readline";
import type { ResolvedHost } from "../core/hosts.js";
import type { PaneActivity, PaneState } from "../ports.js";
import { tmuxEnv, tmuxInvocation } from "./tmux-invocation.js";
import { CONTROL_SESSION, lastLines, PANE_FORMAT, parsePaneLine, validateTmuxName } from "./tmux.js";

export { CONTROL_SESSION };

/** What the control client reports, by tmux session name of the agent. */
export interface TmuxActivityEvents {
  /** The pane produced output (not debounced: every `%output` line). */
  output: [session: string, at: number];
  /** The pane's process exited (pane_dead became 1), or its window closed. */
  paneDead: [session: string, at: number];
  /** The control client ended: the tmux server died or was killed. */
  serverExited: [reason: string];
}

/** tmux's answer for a target that does not exist. */
const GONE = /can't find (session|pane|window)|no such (session|window)/;

/** How long a command on the control connection may go unanswered before the connection is given up. */
const COMMAND_TIMEOUT_MS = 5000;

/** What tmux answered to one command: its output lines, or its error text. */
interface CommandAnswer {
  readonly error: string | null;
  readonly lines: string[];
}


/**
 * One tmux control-mode client (`tmux -L SOCKET -C attach`) that turns pane
 * output and pane death into events, so sessions are read when something
 * happened instead of on a timer. A `refresh-client -B` subscription on
 * `#{pane_dead}` reports exits (tmux checks subscriptions once a second);
 * the client's own exit means the server is gone.
 */
export class TmuxControlClient extends EventEmitter<TmuxActivityEvents> {
  readonly socket: string;
  private child: ResultPromise | null = null;
  private readonly paneToSession = new Map<string, string>();
  /** The window of each watched session, as linked into the control session. */
  private readonly windowOf = new Map<string, string>();
  private readonly lastOutput = new Map<string, number>();
  private closing = false;
  /** Resolvers of our commands awaiting their %end/%error, in order (tmux answers in order). */
  private readonly pending: ((answer: CommandAnswer) => void)[] = [];
  /** Lines of the %begin block being read, or null outside one. */
  private block: string[] | null = null;
  /** `TIME NUMBER` of that block's %begin: only an %end/%error with the same numbers closes it (output lines may look like one). */
  private blockId = "";
  private attached = false;

  private readonly commandTimeoutMs: number;

  private readonly host: ResolvedHost | null;

  /**
   * `commandTimeoutMs`: how long a command may go unanswered (default
   * COMMAND_TIMEOUT_MS); `host`: the agent host whose tmux to follow (the
   * client then streams over ssh's shared connection).
   */
  constructor(options: { readonly socket: string; readonly commandTimeoutMs?: number; readonly host?: ResolvedHost | null }) {
    super();
    this.socket = validateTmuxName(options.socket, "tmux socket");
    this.commandTimeoutMs = options.commandTimeoutMs ?? COMMAND_TIMEOUT_MS;
    this.host = options.host ?? null;
  }

  private async tmux(args: readonly string[]): Promise<{ ok: boolean; stdout: string; stderr: string }> {
    const call = tmuxInvocation(this.host, ["-L", this.socket, ...args]);
    const r = await execa(call.file, call.args, { env: tmuxEnv(), extendEnv: false, reject: false, stdin: "ignore" });
    return { ok: r.exitCode === 0, stdout: r.stdout, stderr: r.stderr };
  }

  /**
   * Starts the control session (a constant, inert pane), attaches the client
   * and subscribes to pane deaths. Resolves once tmux answered; rejects when
   * control mode is unavailable (the caller falls back to polling and says so).
   */
  async start(): Promise<void> {
    // The control pane runs a fixed argv; nothing from a user reaches tmux here.
    await this.tmux(["new-session", "-d", "-s", CONTROL_SESSION, "-x", "80", "-y", "24", "--", "tail", "-f", "/dev/null"]);
    const attach = tmuxInvocation(this.host, ["-L", this.socket, "-C", "attach-session", "-t", `=${CONTROL_SESSION}`]);
    const child = execa(attach.file, attach.args, { env: tmuxEnv(), extendEnv: false, reject: false, stdin: "pipe", buffer: false });
    this.child = child;
    createInterface({ input: child.stdout! }).on("line", (line) => this.onLine(line));
    void child.then((result) => {
      for (const pending of this.pending.splice(0)) pending({ error: `tmux control client ended: ${String(result.stderr ?? "").trim() || `exit ${result.exitCode ?? "?"}`}`, lines: [] });
      if (!this.closing) this.emit("serverExited", `tmux control client ended (exit ${result.exitCode ?? "?"})`);
    });
    // The attach itself answers first (a block not flagged as ours); commands sent before it find "no current client".
    const attached = (await new Promise<CommandAnswer>((resolve) => this.pending.push(resolve))).error;
    // Quoted: in tmux's command syntax an unquoted `#` starts a comment.
    const error = attached ?? (await this.command("refresh-client -B 'gaffer-dead:%*:#{pane_dead}'")).error;
    if (error !== null) {
      await this.close();
      throw new Error(`tmux control mode is unavailable (${error}); tmux 3.2 or later is needed for pane subscriptions`);
    }
  }

  /**
   * Sends one command line on the client; resolves with its output lines, or
   * tmux's error text. An answer that does not come within COMMAND_TIMEOUT_MS
   * ends the client (later answers could no longer be matched to their
   * commands): every caller gets an error and falls back to plain tmux calls.
   */
  private command(line: string): Promise<CommandAnswer> {
    return new Promise((resolve) => {
      const stdin = this.child?.stdin;
      if (stdin === null || stdin === undefined) return resolve({ error: "tmux control client not running", lines: [] });
      const timer = setTimeout(() => this.abandon(`no answer to a command within ${this.commandTimeoutMs} ms`), this.commandTimeoutMs);
      this.pending.push((answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
      stdin.write(`${line}\n`);
    });
  }

  /** Gives up on the connection: pending commands fail, and the owner hears `serverExited` (it polls, then starts a new client). */
  private abandon(reason: string): void {
    const child = this.child;
    if (child === null) return;
    this.child = null;
    this.closing = true;
    for (const pending of this.pending.splice(0)) pending({ error: `tmux control client abandoned: ${reason}`, lines: [] });
    this.emit("serverExited", `tmux control client abandoned: ${reason}`);
    // Not awaited: a client of a frozen server may not end until the server runs again.
    child.stdin?.end();
    child.kill("SIGKILL");
  }

  /**
   * The pane's state and its last `lines` lines, read over this connection
   * (no tmux process per look, as TmuxAdapter.snapshot needs); null when the
   * session is gone. The name is validated, so it is safe inside quotes.
   */
  async snapshot(session: string, lines: number): Promise<{ readonly pane: PaneState; readonly screen: string } | null> {
    const t = `'=${validateTmuxName(session)}:'`;
    const n = Math.max(1, Math.floor(lines));
    // Both sent at once: tmux answers in order.
    const [pane, capture] = await Promise.all([this.command(`list-panes -t ${t} -F '${PANE_FORMAT}'`), this.command(`capture-pane -p -J -t ${t} -S -${n}`)]);
    // Only tmux saying the session is not there means "gone"; a failed connection is an error (the caller asks tmux directly).
    for (const answer of [pane, capture]) {
      if (answer.error !== null && GONE.test(answer.error)) return null;
      if (answer.error !== null) throw new Error(answer.error);
    }
    if (pane.lines.length === 0) return null;
    return { pane: parsePaneLine(pane.lines[0]!), screen: lastLines(capture.lines.join("\n"), n) };
  }

  /**
   * When each session's window last printed (tmux's own record, to the
   * second: `window_activity`) and whether its pane is dead, for every
   * session of the server, in one command.
   */
  async paneActivity(): Promise<ReadonlyMap<string, PaneActivity>> {
    const answer = await this.command(`list-panes -a -F '#{session_name}\t#{window_activity}\t#{pane_dead}'`);
    if (answer.error !== null) throw new Error(answer.error);
    const found = new Map<string, PaneActivity>();
    for (const line of answer.lines) {
      const [name, seconds, dead] = line.split("\t");
      if (name !== undefined && name !== CONTROL_SESSION && !found.has(name)) found.set(name, { activityAt: Number(seconds) * 1000, dead: dead === "1" });
    }
    return found;
  }

  private onLine(line: string): void {
    if (this.block !== null) {
      // Inside a %begin/%end block: command output, never a notification.
      const failed = line.startsWith(`%error ${this.blockId} `);
      if (failed || line.startsWith(`%end ${this.blockId} `)) {
        // The first block answers the attach (flags 0); after that only blocks flagged 1 answer our commands.
        const fromUs = line.endsWith(" 1") || !this.attached;
        this.attached = true;
        if (fromUs) this.pending.shift()?.(failed ? { error: this.block.join(" ").trim() || "error", lines: [] } : { error: null, lines: this.block });
        this.block = null;
      } else this.block.push(line);
      return;
    }
    if (line.startsWith("%begin ")) {
      this.block = [];
      this.blockId = line.split(" ").slice(1, 3).join(" ");
      return;
    }
    if (line.startsWith("%output ") || line.startsWith("%extended-output ")) {
      const session = this.paneToSession.get(line.split(" ", 3)[1]!);
      if (session === undefined) return;
      const now = Date.now();
      this.lastOutput.set(session, now);
      this.emit("output", session, now);
      return;
    }
    if (line.startsWith("%subscription-changed gaffer-dead ")) {
      // %subscription-changed NAME $S @W IDX %P ... : VALUE
      const match = / (%\d+) .*: (\d)$/.exec(line);
      const session = match === null ? undefined : this.paneToSession.get(match[1]!);
      if (session !== undefined && match![2] === "1") this.emit("paneDead", session, Date.now());
    }
  }

  /**
   * Links the agent session's window into the control session so its output
   * and death are reported; idempotent. Returns false when the session is gone.
   */
  async watch(session: string): Promise<boolean> {
    const name = validateTmuxName(session);
    const ids = await this.tmux(["display-message", "-p", "-t", `=${name}:`, "#{pane_id} #{window_id}"]);
    if (!ids.ok) return false;
    const [pane, window] = ids.stdout.trim().split(" ");
    this.paneToSession.set(pane!, name);
    this.windowOf.set(name, window!);
    const link = await this.tmux(["link-window", "-d", "-a", "-s", `=${name}:`, "-t", `=${CONTROL_SESSION}:`]);
    return link.ok || /already linked|index in use/.test(link.stderr);
  }

  /**
   * Stops reporting a session and unlinks its window from the control
   * session, so that killing the agent's session really ends its window.
   */
  async unwatch(session: string): Promise<void> {
    for (const [pane, name] of this.paneToSession) if (name === session) this.paneToSession.delete(pane);
    this.lastOutput.delete(session);
    const window = this.windowOf.get(session);
    this.windowOf.delete(session);
    if (window !== undefined) await this.tmux(["unlink-window", "-t", `=${CONTROL_SESSION}:${window}`]);
  }

  /** When the session last produced output, as Date.now() ms; undefined when not seen since watching. */
  lastOutputAt(session: string): number | undefined {
    return this.lastOutput.get(session);
  }

  /** Detaches the client; the control session stays for the next controller. */
  async close(): Promise<void> {
    this.closing = true;
    const child = this.child;
    this.child = null;
    if (child === null) return;
    child.stdin?.end();
    child.kill("SIGTERM");
    await child;
  }
}
