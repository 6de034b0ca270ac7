import { execa } from "execa";
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { ResolvedHost } from "../core/hosts.js";
import { InvalidNameError, InvalidTextError, TmuxError } from "../errors.js";
import type { NewTmuxSession, PaneState, Tmux } from "../ports.js";
import { zombieExit } from "./proc-info.js";
import { checkLaunch, encodeLaunchSpec, LAUNCH_ENV, launcherArgv, launchMismatch } from "./pane-launcher.js";
import { SSH_FAILED, sshArgv, unreachable } from "./ssh.js";
import { killRemoteGroup, tmuxEnv, tmuxInvocation } from "./tmux-invocation.js";

/**
 * Session and socket names: a letter or digit, then letters, digits, `_`, `-`.
 * This excludes every character tmux or a shell gives meaning to (`#{`, `#(`,
 * `;`, `$`, `:`, `.`, spaces, quotes, newlines) and a leading `-` (an option).
 */
export const TMUX_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;

/**
 * The session gaffer's control-mode client attaches to (see tmux-control.ts).
 * Agent windows are linked into it so that one client hears every pane: tmux
 * sends `%output` only for panes of the attached session (tmux 3.3a). It is
 * never an agent session, so listings leave it out.
 */
export const CONTROL_SESSION = "gaffer-control";

/** Throws INVALID_NAME unless `name` is safe as a tmux session or socket name. */
export function validateTmuxName(name: string, what = "session name"): string {
  if (!TMUX_NAME_PATTERN.test(name)) {
    throw new InvalidNameError(`${what} ${JSON.stringify(name)} is not allowed: use 1-63 letters, digits, "_" or "-", starting with a letter or digit (tmux formats, shell characters, ":" "." and newlines are refused)`);
  }
  return name;
}

/** A session name derived from the task (or agent) and a short unique suffix; validated. */
export function sessionNameFor(base: string, suffix: string): string {
  validateTmuxName(base, "task name");
  return validateTmuxName(`${base.slice(0, 55)}-${suffix}`);
}

// Control characters other than tab and newline could end a bracketed paste early (ESC[201~) or act as keys.
// eslint-disable-next-line no-control-regex
const FORBIDDEN_TEXT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u0080-\u009f]/;

/** Normalizes line ends and refuses control characters (INVALID_TEXT); the text is otherwise passed verbatim. */
export function validatePasteText(text: string): string {
  const normalized = text.replace(/\r\n?/g, "\n");
  if (normalized.trim() === "") throw new InvalidTextError("the text is empty; send something the agent can act on");
  const bad = FORBIDDEN_TEXT.exec(normalized);
  if (bad !== null) {
    const code = bad[0].charCodeAt(0).toString(16).padStart(2, "0");
    throw new InvalidTextError(`the text contains control character 0x${code} at offset ${bad.index}; only printable text, tabs and newlines can be sent (escape sequences could act as keystrokes)`);
  }
  return normalized;
}


/** An exact-match target: `=NAME:` is the session NAME (never a prefix match), its current pane. */
function target(name: string): string {
  return `=${validateTmuxName(name)}:`;
}

/** The pane line: pid, dead flag, exit status, signal (no quote in it: control mode sends it single-quoted). */
export const PANE_FORMAT = "#{pane_pid} #{pane_dead} #{pane_dead_status} #{pane_dead_signal}";

/** Pure (but for a zombie's status read from /proc): a PANE_FORMAT line. */
export function parsePaneLine(line: string): PaneState {
  const [pid, dead, status, signal] = line.trim().split(/ /);
  const number = (text: string | undefined): number | null => (text === undefined || text === "" || !Number.isInteger(Number(text)) ? null : Number(text));
  const isDead = dead === "1";
  const pane = { pid: Number(pid), dead: isDead, exitStatus: isDead ? number(status) : null, signal: isDead ? number(signal) : null };
  // NOTE: tmux 3.3 sometimes never reaps a pane process that exits soon after start (it stays a
  // zombie and pane_dead_status stays empty); the kernel still holds the status in /proc.
  return isDead && pane.exitStatus === null && pane.signal === null ? { ...pane, ...zombieExit(pane.pid) } : pane;
}

/** The last `n` lines of a capture, trailing blank lines (the empty rows below the cursor) dropped. */
export function lastLines(stdout: string, n: number): string {
  const all = stdout.replace(/\n$/, "").split("\n");
  while (all.length > 0 && all[all.length - 1]!.trim() === "") all.pop();
  return all.slice(-n).join("\n");
}

const MISSING = /can't find (session|pane|window)|no server running|no such (session|window)|error connecting to|server exited/;

/** A tmux failure that means the server or the session is gone (a crash to recover from, not a bug). */
export function isTmuxGone(error: unknown): boolean {
  return error instanceof TmuxError && MISSING.test(error.message);
}

export interface TmuxAdapterOptions {
  /** `-L` socket name (default `gaffer`). */
  readonly socket?: string;
  /** The agent host whose tmux this is (over ssh); null or left out: this machine. */
  readonly host?: ResolvedHost | null;
}

/**
 * The tmux adapter over execa: every call is `tmux -L SOCKET ...argv`, never a
 * shell string; on an agent host the same argv goes through ssh, quoted.
 */
export class TmuxAdapter implements Tmux {
  readonly socket: string;
  /** The agent host, or null for this machine. */
  readonly host: ResolvedHost | null;

  constructor(options: TmuxAdapterOptions = {}) {
    this.socket = validateTmuxName(options.socket ?? "gaffer", "tmux socket");
    this.host = options.host ?? null;
  }

  private async run(args: readonly string[], options: { input?: string; allowMissing?: boolean } = {}): Promise<{ ok: boolean; stdout: string }> {
    const argv = ["-L", this.socket, ...args];
    const call = tmuxInvocation(this.host, argv);
    const result = await execa(call.file, call.args, { env: tmuxEnv(), extendEnv: false, reject: false, stripFinalNewline: false, ...(options.input === undefined ? { stdin: "ignore" as const } : { input: options.input }) });
    if (result.exitCode === 0) return { ok: true, stdout: result.stdout };
    // A lost host is a fault to recover from, never "the session is gone".
    if (this.host !== null && (result.exitCode === SSH_FAILED || result.exitCode === undefined)) throw unreachable(this.host, result.stderr || (result.shortMessage ?? ""), result);
    const stderr = result.stderr.trim();
    if (options.allowMissing === true && MISSING.test(stderr)) return { ok: false, stdout: "" };
    throw new TmuxError(`tmux ${args[0]} failed (exit ${result.exitCode ?? "?"}): ${stderr || result.shortMessage}; is tmux installed and the socket ${this.socket} usable?`, {
      cause: result,
      details: { command: ["tmux", ...argv], exitCode: result.exitCode ?? null, stderr },
    });
  }

  /**
   * Starts the pane as gaffer's launcher (a constant argv; the spec travels
   * hex-encoded in the environment, see pane-launcher.ts), then checks from
   * /proc that the agent really runs with the given argv in the given
   * directory; otherwise kills it and throws LAUNCH_MISMATCH.
   */
  async newSession(spec: NewTmuxSession): Promise<void> {
    const name = validateTmuxName(spec.name);
    const launch = encodeLaunchSpec(spec);
    // On an agent host, perl is found on the host's PATH (tmux execs the argv directly).
    const launcher = this.host === null ? launcherArgv() : ["perl", ...launcherArgv().slice(1)];
    // NOTE: remain-on-exit is set in the same command list (server-wide first, then on
    // the window), before the server's event loop can reap a process that exits at
    // once, so a crashed pane stays and its dead status stays readable. No -c: tmux
    // would expand formats in the directory; the launcher does the chdir.
    const { stdout } = await this.run([
      "set-option", "-wg", "remain-on-exit", "on", ";",
      "new-session", "-d", "-P", "-F", "#{pane_pid}", "-s", name, "-x", "200", "-y", "50",
      "-e", `${LAUNCH_ENV}=${launch}`, "-e", "PERL_BADLANG=0", "--", ...launcher,
      ";", "set-option", "-w", "-t", target(name), "remain-on-exit", "on",
    ]);
    // NOTE: a remote pane's /proc is on the host: the launcher's exact exec is trusted there, not re-read.
    if (this.host !== null) return;
    const check = await checkLaunch(Number(stdout.trim()), spec);
    if (check.ok || check.gone) return;
    await this.killSession(name);
    throw launchMismatch(name, spec, check);
  }

  async hasSession(name: string): Promise<boolean> {
    return (await this.run(["has-session", "-t", `=${validateTmuxName(name)}`], { allowMissing: true })).ok;
  }

  async listSessions(): Promise<string[]> {
    const { stdout } = await this.run(["list-sessions", "-F", "#{session_name}"], { allowMissing: true });
    return stdout.split("\n").filter((line) => line !== "" && line !== CONTROL_SESSION);
  }

  async paneState(name: string): Promise<PaneState | null> {
    const { ok, stdout } = await this.run(["list-panes", "-t", target(name), "-F", PANE_FORMAT], { allowMissing: true });
    return ok ? parsePaneLine(stdout.split("\n")[0] ?? "") : null;
  }

  async snapshot(name: string, lines: number): Promise<{ pane: PaneState; screen: string } | null> {
    const n = Math.max(1, Math.floor(lines));
    const t = target(name);
    // One tmux call: the pane line first, then the capture (tmux stops at the first failing command).
    const { ok, stdout } = await this.run(["list-panes", "-t", t, "-F", PANE_FORMAT, ";", "capture-pane", "-p", "-J", "-t", t, "-S", String(-n)], { allowMissing: true });
    if (!ok) return null;
    const newline = stdout.indexOf("\n");
    return { pane: parsePaneLine(stdout.slice(0, newline)), screen: lastLines(stdout.slice(newline + 1), n) };
  }

  async panePid(name: string): Promise<number | null> {
    return (await this.paneState(name))?.pid ?? null;
  }

  async capturePane(name: string, lines: number): Promise<string> {
    const n = Math.max(1, Math.floor(lines));
    const { stdout } = await this.run(["capture-pane", "-p", "-J", "-t", target(name), "-S", String(-n)]);
    return lastLines(stdout, n);
  }

  /** load-buffer from stdin into a named buffer: the text never becomes tmux or shell syntax. */
  async loadBuffer(buffer: string, text: string): Promise<void> {
    await this.run(["load-buffer", "-b", validateTmuxName(buffer, "buffer name"), "-"], { input: text });
  }

  /** Bracketed (`-p`) paste of a named buffer, deleting it afterwards (`-d`). */
  async pasteBuffer(name: string, buffer: string): Promise<void> {
    await this.run(["paste-buffer", "-p", "-d", "-b", validateTmuxName(buffer, "buffer name"), "-t", target(name)]);
  }

  /** load-buffer (stdin) and paste-buffer -p -d in one tmux call: the text is data, never a command. */
  async pasteText(name: string, text: string): Promise<void> {
    const buffer = `gaffer-${randomBytes(6).toString("hex")}`;
    await this.run(["load-buffer", "-b", buffer, "-", ";", "paste-buffer", "-p", "-d", "-b", buffer, "-t", target(name)], { input: validatePasteText(text) });
  }

  async sendEnter(name: string): Promise<void> {
    await this.run(["send-keys", "-t", target(name), "Enter"]);
  }

  async killSession(name: string): Promise<boolean> {
    const pane = await this.paneState(name);
    // NOTE: kill-session only unlinks a window that is also linked elsewhere (the control
    // session links every agent window): kill the window itself, then whatever is left.
    const { ok } = await this.run(["kill-window", "-t", target(name)], { allowMissing: true });
    await this.run(["kill-session", "-t", `=${validateTmuxName(name)}`], { allowMissing: true });
    if (pane !== null) await (this.host === null ? killProcessGroup(pane.pid) : killRemoteGroup(this.host, pane.pid));
    return ok;
  }

  /** Stops the server and removes its socket file (tmux leaves it behind after kill-server). */
  async killServer(): Promise<void> {
    await this.run(["kill-server"], { allowMissing: true });
    if (this.host !== null) return;
    rmSync(join(process.env.TMUX_TMPDIR ?? "/tmp", `tmux-${process.getuid?.() ?? 0}`, this.socket), { force: true });
  }

  attachArgv(name: string): string[] {
    const args = ["-L", this.socket, "attach", "-t", validateTmuxName(name)];
    return this.host === null ? ["tmux", ...args] : ["ssh", ...sshArgv(this.host, ["tmux", ...args], { tty: true })];
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Ends a pane's process group: SIGTERM, then SIGKILL after a short grace.
 * The pane process is a session leader (tmux forks it with setsid), so its
 * pid is the group id; helpers an agent left behind in the group go too.
 */
export async function killProcessGroup(pgid: number, graceMs = 500): Promise<void> {
  if (!Number.isInteger(pgid) || pgid <= 1 || !signalGroup(pgid, "SIGTERM")) return;
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!signalGroup(pgid, 0)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  signalGroup(pgid, "SIGKILL");
}
