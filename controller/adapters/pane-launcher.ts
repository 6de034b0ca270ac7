/**
 * gaffer's pane launcher: the only command tmux ever starts for an agent.
 *
 * tmux parses what it is given: `new-session -c DIR` expands formats in DIR
 * (`#(cmd)` runs a command, `#S` is the session name) and any argument that
 * ends in `;` separates tmux commands. So nothing a user or an agent wrote is
 * given to tmux: the pane command is a constant `perl -e LAUNCHER`, and the
 * directory, environment and argv travel hex-encoded in one environment
 * variable. The launcher decodes them, chdirs and execs the agent (no shell),
 * so the pane's pid is the agent's and its exit status and signals are its own.
 * The variables that tell a TUI it runs unattended (CI, CONTINUOUS_INTEGRATION,
 * CI_*) are dropped when inherited: a pane is a terminal, and gemini, for one,
 * exits at start-up when it sees them. The AgentPool's env is applied after.
 */
import { accessSync, constants } from "node:fs";
import { basename, delimiter, join } from "node:path";
import { InvalidNameError, LaunchMismatchError, TmuxError } from "../errors.js";
import { readProcess, realDir } from "./proc-info.js";

/** The environment variable that carries the launch spec into the pane (removed before the exec). */
export const LAUNCH_ENV = "GAFFER_LAUNCH";

/** Exit status of the pane when the program cannot be found (as a shell's). */
export const EXIT_NOT_FOUND = 127;
/** Exit status when the program exists but cannot be run, or the directory cannot be entered. */
export const EXIT_CANNOT_RUN = 126;

// NOTE: the script as a whole may not end in ";" (tmux splits commands at an argument ending in ";"),
// and it uses only perl-base built-ins (pack, chdir, exec, select), so any Debian-like system runs it.
// `fail` lingers 1 s after its message: tmux 3.3 closes a pane's pty as soon as its process exits,
// dropping output it has not read yet, so a message printed just before exit(2) was sometimes lost.
const LAUNCHER_SCRIPT = [
  'my @f = map { pack "H*", $_ } split /\\./, (delete $ENV{GAFFER_LAUNCH}) // "", -1; delete $ENV{PERL_BADLANG};',
  'sub fail { print STDERR "gaffer: $_[0]\\n"; select undef, undef, undef, 1; exit $_[1] }',
  'if (@f < 3) { fail("launcher started without a launch spec", 126) };',
  "delete @ENV{grep { /^(?:CI|CONTINUOUS_INTEGRATION|CI_.*)\\z/ } keys %ENV};",
  "my $dir = shift @f; my $n = shift @f; for (1 .. $n) { my $k = shift @f; $ENV{$k} = shift @f };",
  'chdir $dir or fail("cannot enter $dir: $!", 126);',
  'exec { $f[0] } @f; my $e = $!; fail("cannot run $f[0]: $e", $e + 0 == 2 ? 127 : 126)',
].join("\n");

/** tmux's client sends its whole argv in one 16 KiB message; stay well below it. */
export const MAX_LAUNCH_SPEC = 12_000;

/** What the pane should run, where, with which extra environment. */
export interface LaunchSpec {
  readonly cwd: string;
  readonly argv: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
}

const hex = (text: string): string => Buffer.from(text, "utf8").toString("hex");

/** A name the environment can hold: no `=`, no NUL, not empty. */
const ENV_NAME = /^[^=\0]+$/;

/** The spec as `hex(cwd).hex(n).hex(k1).hex(v1)....hex(argv0)...`: only `[0-9a-f.]`, inert to tmux and shells. */
export function encodeLaunchSpec(spec: LaunchSpec): string {
  if (spec.argv.length === 0 || spec.argv[0] === "") throw new InvalidNameError("the agent command is empty; set `command` in the AgentPool");
  const env = Object.entries(spec.env ?? {});
  for (const [key, value] of env) {
    if (!ENV_NAME.test(key) || value.includes("\0")) throw new InvalidNameError(`environment entry ${JSON.stringify(key)} is not allowed: names may not be empty or hold "=", and no value may hold a NUL byte`);
  }
  if ([spec.cwd, ...spec.argv].some((part) => part.includes("\0"))) throw new InvalidNameError("a NUL byte cannot be part of a directory or an argument");
  const encoded = [spec.cwd, String(env.length), ...env.flat(), ...spec.argv].map(hex).join(".");
  if (encoded.length > MAX_LAUNCH_SPEC) {
    throw new InvalidNameError(`the agent's directory, argv and env take ${Math.ceil(encoded.length / 2)} bytes; at most ${MAX_LAUNCH_SPEC / 2} fit through tmux: shorten the command template or the AgentPool env`);
  }
  return encoded;
}

let perlPath: string | null | undefined;

/** The absolute path of perl on PATH (looked up once per process), or null when there is none. */
export function findPerl(): string | null {
  if (perlPath !== undefined) return perlPath;
  perlPath = null;
  for (const dir of (process.env.PATH ?? "/usr/bin:/bin").split(delimiter)) {
    const candidate = join(dir, "perl");
    try {
      accessSync(candidate, constants.X_OK);
      if (/^[A-Za-z0-9_./+-]+$/.test(candidate)) return (perlPath = candidate);
    } catch {
      // not here
    }
  }
  return perlPath;
}

/** The absolute path of perl on PATH; TMUX_FAILED when there is none. */
export function launcherPerl(): string {
  const perl = findPerl();
  if (perl !== null) return perl;
  throw new TmuxError("perl is not on PATH; gaffer starts agents through a small perl launcher (Debian/Ubuntu: `apt-get install perl-base`)");
}

/** The constant argv tmux runs as the pane command. */
export function launcherArgv(): string[] {
  return [launcherPerl(), "-e", LAUNCHER_SCRIPT, "gaffer-launcher"];
}

/** The program a command name runs: itself when it has a `/`, else its first hit on PATH. */
function whichProgram(name: string, env: Readonly<Record<string, string>> | undefined): string | null {
  if (name.includes("/")) return name;
  for (const dir of (env?.PATH ?? process.env.PATH ?? "").split(delimiter)) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // keep looking
    }
  }
  return null;
}

/**
 * Whether a process's argv is `expected` as the kernel shows it: exactly, or
 * behind an interpreter a `#!` line put in front (`/usr/bin/env node PATH
 * args...`, with the program named by its path). Every argument after the
 * program must be there unchanged, so a split or truncated argv never passes.
 */
export function isLaunchOf(observed: readonly string[], expected: readonly string[], env?: Readonly<Record<string, string>>): boolean {
  const offset = observed.length - expected.length;
  if (offset < 0 || !expected.slice(1).every((arg, i) => observed[offset + 1 + i] === arg)) return false;
  const head = observed[offset]!;
  const program = expected[0]!;
  return head === program || head === whichProgram(program, env) || basename(head) === basename(program);
}

/** Whether the pane still runs the launcher (or tmux's fork before it), i.e. the exec has not happened yet. */
export function isLaunching(argv: readonly string[]): boolean {
  return (argv.length === 4 && argv[1] === "-e" && argv[3] === "gaffer-launcher") || basename(argv[0] ?? "") === "tmux";
}

/** What the pane runs once the launcher has exec'ed: the agent, or nothing (it already exited). */
export type LaunchCheck = { readonly ok: true } | { readonly ok: false; readonly gone: true } | { readonly ok: false; readonly gone: false; readonly argv: string[]; readonly cwd: string };

/**
 * Waits (polling /proc every few ms, up to `timeoutMs`) for the pane process
 * to exec, then compares its argv and real cwd with the spec. A process that
 * exits first is `gone` (its dead status tells the rest).
 */
export async function checkLaunch(pid: number, spec: LaunchSpec, timeoutMs = 15_000): Promise<LaunchCheck> {
  const deadline = Date.now() + timeoutMs;
  const cwd = realDir(spec.cwd);
  for (;;) {
    const seen = readProcess(pid);
    if (seen === null) return { ok: false, gone: true };
    const launching = isLaunching(seen.argv);
    if (!launching || Date.now() > deadline) {
      return !launching && isLaunchOf(seen.argv, spec.argv, spec.env) && seen.cwd === cwd ? { ok: true } : { ok: false, gone: false, ...seen };
    }
    await new Promise((resolve) => setTimeout(resolve, 5)); // the /proc poll interval while perl starts
  }
}

/** LAUNCH_MISMATCH: the pane does not run what gaffer asked for, where it asked. */
export function launchMismatch(session: string, spec: LaunchSpec, seen: { readonly argv: string[]; readonly cwd: string }): LaunchMismatchError {
  const details = { details: { session, expected: { argv: spec.argv, cwd: realDir(spec.cwd) }, observed: seen } };
  if (isLaunching(seen.argv)) return new LaunchMismatchError(`session ${session}: gaffer's launcher did not start ${JSON.stringify(spec.argv[0])} in time; it was killed before anything was sent. Check the machine's load and try again`, details);
  return new LaunchMismatchError(
    `session ${session} runs ${JSON.stringify(seen.argv)} in ${seen.cwd}, not ${JSON.stringify(spec.argv)} in ${realDir(spec.cwd)}; it was killed before anything was sent. If the agent's command is a wrapper that re-executes with other arguments, point the AgentPool command at the real program`,
    details,
  );
}
