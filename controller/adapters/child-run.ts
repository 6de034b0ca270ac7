/**
 * One short child process through `node:child_process` alone: argv array
 * (never a shell), optional stdin text, stdout and stderr collected whole.
 * The git adapter's hot paths start ten of these per task; execa's per-call
 * machinery (option normalisation, stream pipelines, abort signals) cost
 * about as much Node CPU again as the spawn itself (`npm run bench git`),
 * and none of it is needed for a process that reads argv and answers once.
 * Anything long-running, with a timeout or streamed output, still uses execa.
 */
import { spawn } from "node:child_process";

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

/** Runs `file ARGS` to its end; never rejects (a start failure is `failure`). */
export function runChild(file: string, args: readonly string[], options: ChildOptions): Promise<ChildResult> {
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
    const child = spawn(file, args, { cwd: options.cwd, env: options.env, stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"], windowsHide: true });
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
