/**
 * One short child process: argv array (never a shell), optional stdin text,
 * stdout and stderr collected whole. The git adapter's hot paths start ten
 * of these per task. From the third one on in a process they go through a
 * spawn helper (spawn-helper.ts), so a fork from a large Node process is not
 * paid each time; with no perl, or with every helper busy, they start
 * directly through `node:child_process` alone: execa's per-call machinery
 * (option normalisation, stream pipelines, abort signals) cost about as much
 * Node CPU again as the spawn itself (`npm run bench git`), and none of it is
 * needed for a process that reads argv and answers once. Anything
 * long-running, with a timeout or streamed output, still uses execa.
 */
import { spawn } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";
import { findPerl } from "./pane-launcher.js";
import { SpawnHelper } from "./spawn-helper.js";

/** What the child answered: its whole output, and its exit code (null when it could not start or died by a signal). */
export interface ChildResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number | null;
  /** Why there is no exit code: the start error (`spawn git ENOENT`) or `killed by SIGTERM`. */
  readonly failure: string | null;
}

export interface ChildOptions {
  readonly cwd: string;
  /** The whole environment of the child. */
  readonly env: NodeJS.ProcessEnv;
  /** Written to stdin, which is then closed; without it stdin is /dev/null. */
  readonly input?: string;
}

/** Helpers at most: a call that finds them all busy starts its child directly rather than wait behind a long one. */
const MAX_HELPERS = 4;
/** Calls started directly before the first helper: a command that runs a git or two never pays for a helper. */
const DIRECT_FIRST = 2;

const helpers: SpawnHelper[] = [];
let directCalls = 0;
/** Set once a helper could not start (a perl that cannot run it): every child starts directly from then on. */
let helpersUnusable = false;

/** An idle helper, started if there is room; null to start the child directly. */
function idleHelper(): SpawnHelper | null {
  if (directCalls < DIRECT_FIRST || helpersUnusable) return null;
  for (let i = helpers.length - 1; i >= 0; i--) if (helpers[i]!.gone) helpers.splice(i, 1);
  const idle = helpers.find((h) => h.idle);
  if (idle !== undefined || helpers.length >= MAX_HELPERS) return idle ?? null;
  const perl = findPerl();
  if (perl === null) return null;
  try {
    const started = new SpawnHelper(perl);
    helpers.push(started);
    return started;
  } catch {
    // NOTE: the pipes could not be made (no file descriptors left): this call starts directly, and fails there if it must.
    return null;
  }
}

/** Where a program name was found, per PATH value and name. */
const found = new Map<string, string>();

/**
 * The executable `file` names on `path` (its first hit, as execvp would),
 * looked up once per PATH value; `file` itself when it has a `/`, is not
 * found (the start then fails with its own ENOENT) or a relative PATH entry
 * comes first (the exec resolves that from the child's directory).
 *
 * NOTE: execvp tries every PATH entry before the right one, and a failed exec
 * costs about as much as a successful one on this VM: with nine entries before
 * /usr/bin, `git --version` took 16 ms through the PATH and 10 ms by path.
 */
export function resolveProgram(file: string, path: string | undefined): string {
  if (file.includes("/") || path === undefined) return file;
  const key = `${file}\0${path}`;
  const hit = found.get(key);
  if (hit !== undefined) return hit;
  for (const dir of path.split(delimiter)) {
    // A relative (or empty) entry means the child's own directory: left to the exec, as it would be.
    if (!isAbsolute(dir)) return file;
    const candidate = join(dir, file);
    try {
      accessSync(candidate, constants.X_OK);
      if (!statSync(candidate).isFile()) continue;
    } catch {
      continue;
    }
    found.set(key, candidate);
    return candidate;
  }
  return file;
}

/** Runs `file ARGS` to its end, through a spawn helper when one is free; never rejects (a start failure is `failure`). */
export async function runChild(file: string, args: readonly string[], options: ChildOptions): Promise<ChildResult> {
  const program = resolveProgram(file, options.env.PATH);
  // NOTE: a NUL byte cannot be part of an argument or a path: Node refuses it, where the helper's exec would cut it short.
  const helper = [file, options.cwd, ...args].some((a) => a.includes("\0")) ? null : idleHelper();
  if (helper === null) directCalls++;
  let result = helper === null ? null : await helper.run(program, args, options);
  // Handed back unrun: by a helper that never came up (this perl cannot run it: no helper again), or one that died idle.
  if (helper !== null && result === null && !helper.cameUp) helpersUnusable = true;
  result ??= await runChildDirectly(program, args, options);
  if (result.failure === null || program === file) return result;
  // The program moved since it was looked up: forget where it was, and name it as it was asked for.
  found.delete(`${file}\0${options.env.PATH}`);
  return { ...result, failure: result.failure.replace(`spawn ${program}`, `spawn ${file}`) };
}

/** Runs `file ARGS` to its end from this process; never rejects (a start failure is `failure`). */
export function runChildDirectly(file: string, args: readonly string[], options: ChildOptions): Promise<ChildResult> {
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let failure: string | null = null;
    let settled = false;
    const finish = (result: ChildResult): void => {
      if (!settled) resolve(result);
      settled = true;
    };
    const text = (chunks: Buffer[]): string => Buffer.concat(chunks).toString("utf8");
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(file, args, { cwd: options.cwd, env: options.env, stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"], windowsHide: true });
    } catch (error) {
      // Refused before any start (a NUL byte in an argument): an answer too.
      return finish({ stdout: "", stderr: "", exitCode: null, failure: (error as Error).message });
    }
    child.stdout!.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr!.on("data", (chunk: Buffer) => err.push(chunk));
    child.on("error", (error) => {
      failure ??= error.message;
      // NOTE: a child that never started may send no `close`.
      if (child.pid === undefined) finish({ stdout: "", stderr: "", exitCode: null, failure });
    });
    if (options.input !== undefined) {
      // NOTE: a child that exits without reading its stdin makes the write fail with EPIPE; its exit code says what happened.
      child.stdin!.on("error", () => undefined);
      child.stdin!.end(options.input);
    }
    child.on("close", (code, signal) => {
      finish({ stdout: text(out), stderr: text(err), exitCode: code, failure: failure ?? (signal === null ? null : `killed by ${signal}`) });
    });
  });
}
