/**
 * One long-lived `git cat-file --batch-check` for many object-id lookups
 * (`<rev>:<path>`, `<rev>^{tree}`): a pass that asks dozens of them starts one
 * git process instead of one per question, and none if it asks nothing.
 */
import { spawn, type ChildProcessByStdio } from "node:child_process";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { GitError } from "../errors.js";
import type { GitObjectReader } from "../ports.js";
import { resolveProgram } from "./child-run.js";
import { SHA } from "./git-dir.js";

// NOTE: started through node:child_process, not execa: one per merge pass, and execa's per-start machinery cost
// about as much Node CPU again as the fork itself.
type BatchProcess = ChildProcessByStdio<Writable, Readable, null>;

/** The `cat-file --batch-check=%(objectname)` reader of the repo at `repo`, started on the first lookup. */
export class CatFileReader implements GitObjectReader {
  private child: BatchProcess | null = null;
  private readonly waiting: Array<{ resolve(line: string): void; reject(error: Error): void }> = [];
  private failure: Error | null = null;

  /** `env`: the adapter's git environment. */
  constructor(
    private readonly repo: string,
    private readonly env: Readonly<Record<string, string>>,
  ) {}

  async ids(names: readonly string[]): Promise<(string | null)[]> {
    if (names.some((s) => s.includes("\n"))) throw new GitError(`an object name with a newline cannot be looked up in ${this.repo}`, { details: { names } });
    if (this.failure !== null) throw this.failure;
    const child = this.child ?? this.start();
    const answers = names.map(() => new Promise<string>((resolve, reject) => this.waiting.push({ resolve, reject })));
    child.stdin.write(names.map((s) => `${s}\n`).join(""));
    // NOTE: a name git cannot resolve answers `<name> missing` (or `ambiguous`): no id.
    return (await Promise.all(answers)).map((line) => (SHA.test(line) ? line : null));
  }

  async close(): Promise<void> {
    if (this.child === null) return;
    const ended = this.ended;
    this.child.stdin.end();
    await ended;
  }

  /** Settles when the started process has ended (its output read to the end). */
  private ended: Promise<unknown> = Promise.resolve();

  private start(): BatchProcess {
    const env = { ...process.env, ...this.env };
    const child: BatchProcess = spawn(resolveProgram("git", env.PATH), ["cat-file", "--batch-check=%(objectname)"], { cwd: this.repo, env, stdio: ["pipe", "pipe", "ignore"] });
    child.stdin.on("error", () => undefined);
    createInterface({ input: child.stdout }).on("line", (line) => this.waiting.shift()?.resolve(line));
    const end = (exitCode: number | null, why?: string): void => {
      this.fail(new GitError(`git cat-file --batch-check ended in ${this.repo} (${why ?? `exit ${exitCode ?? "?"}`})`, { details: { command: ["git", "cat-file", "--batch-check"], cwd: this.repo, exitCode } }));
    };
    this.ended = new Promise<void>((resolve) => {
      // NOTE: a child that never started may send no `close`.
      child.on("error", (error) => resolve(end(null, error.message)));
      child.on("close", (code) => resolve(end(code)));
    });
    this.child = child;
    return child;
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiting.splice(0)) waiter.reject(error);
  }
}
