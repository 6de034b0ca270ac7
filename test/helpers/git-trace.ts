/**
 * Counting git processes from git's own trace2 event stream: while a
 * function runs, GIT_TRACE2_EVENT points every git that gaffer starts (they
 * inherit the environment) at one file; its `start` events are the count.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./temp.js";

/** What ran: the subcommand and its first non-option word (`worktree add`, `rev-parse`, `merge`). */
export interface GitTrace {
  readonly count: number;
  readonly commands: readonly string[];
  /** Every git process, the ones git started itself included (`interpret-trailers`, `maintenance run`, `status` of `worktree remove`). */
  readonly all: number;
}

interface StartEvent {
  readonly event: string;
  readonly sid: string;
  readonly argv?: readonly string[];
}

/** `git -c k=v worktree add -q ...` -> `worktree add`; `git rev-parse HEAD` -> `rev-parse`. */
function describeArgv(argv: readonly string[]): string {
  const words: string[] = [];
  for (let i = 1; i < argv.length && words.length < 2; i++) {
    const word = argv[i]!;
    if (word === "-c" || word === "-C") i++;
    else if (!word.startsWith("-")) words.push(word);
  }
  return ["worktree", "merge-base"].includes(words[0] ?? "") ? words.join(" ") : (words[0] ?? "?");
}

/** The git processes started directly while `fn` ran (not the children git starts itself). */
export async function traceGit<T>(fn: () => Promise<T>): Promise<{ readonly result: T; readonly trace: GitTrace }> {
  const file = join(tempDir("gaffer-trace2-"), "events.json");
  const previous = process.env.GIT_TRACE2_EVENT;
  process.env.GIT_TRACE2_EVENT = file;
  let result: T;
  try {
    result = await fn();
  } finally {
    if (previous === undefined) delete process.env.GIT_TRACE2_EVENT;
    else process.env.GIT_TRACE2_EVENT = previous;
  }
  // NOTE: no file at all when no git ran.
  const starts = (existsSync(file) ? readFileSync(file, "utf8") : "").split("\n").filter((l) => l.length > 0).map((l) => JSON.parse(l) as StartEvent).filter((e) => e.event === "start");
  const sids = new Set(starts.map((e) => e.sid));
  // NOTE: a child git's sid is `<parent sid>/<own>`; a top-level one's parent is not in the file.
  const top = starts.filter((e) => !sids.has(e.sid.slice(0, Math.max(0, e.sid.lastIndexOf("/")))));
  return { result, trace: { count: top.length, commands: top.map((e) => describeArgv(e.argv ?? [])), all: starts.length } };
}
