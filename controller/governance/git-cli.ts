import { execa } from "execa";
import { GitError } from "../errors.js";

/** For a raw `execa("git", …)` read: never take `index.lock` (see runGit). */
export const NO_OPTIONAL_LOCKS = { GIT_OPTIONAL_LOCKS: "0" } as const;

export interface GitResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `git ARGS` in `cwd` (argv array, never a shell). GIT_OPTIONAL_LOCKS=0:
 * the controller's reads (`git status`) never take `index.lock`, so they never
 * make a person's `git commit` (or an agent's) fail beside them. With `check` (default)
 * a non-zero exit throws GIT_FAILED keeping command, cwd, exit code and stderr.
 */
export async function runGit(cwd: string, args: readonly string[], options: { check?: boolean; input?: string } = {}): Promise<GitResult> {
  const result = await execa("git", [...args], { cwd, reject: false, stripFinalNewline: false, ...(options.input === undefined ? {} : { input: options.input }), env: { GIT_TERMINAL_PROMPT: "0", LC_ALL: "C", ...NO_OPTIONAL_LOCKS } });
  const out = { exitCode: result.exitCode ?? 1, stdout: String(result.stdout), stderr: String(result.stderr) };
  if ((options.check ?? true) && out.exitCode !== 0) {
    const first = out.stderr.trim().split("\n")[0] ?? "";
    throw new GitError(`git ${args.join(" ")} failed in ${cwd} (exit ${out.exitCode}): ${first}`, { details: { command: ["git", ...args], cwd, exitCode: out.exitCode, stderr: out.stderr } });
  }
  return out;
}

/** The raw bytes git prints for `git ARGS` in `cwd` (`git show REV:PATH`); a failure throws GIT_FAILED like runGit. */
export async function readGitBytes(cwd: string, args: readonly string[]): Promise<Uint8Array> {
  const result = await execa("git", [...args], { cwd, reject: false, encoding: "buffer", env: { GIT_TERMINAL_PROMPT: "0", LC_ALL: "C", ...NO_OPTIONAL_LOCKS } });
  if (result.exitCode !== 0) {
    const stderr = new TextDecoder().decode(result.stderr);
    throw new GitError(`git ${args.join(" ")} failed in ${cwd} (exit ${result.exitCode ?? 1}): ${stderr.trim().split("\n")[0] ?? ""}`, { details: { command: ["git", ...args], cwd, exitCode: result.exitCode ?? 1, stderr } });
  }
  return result.stdout;
}

/** One line of `git blame --porcelain`: who last changed it. */
export interface BlameLine {
  readonly sha: string;
  readonly authorEmail: string;
  readonly authorName: string;
  /** Unix seconds the commit was made (0 for uncommitted lines). */
  readonly committerTime: number;
  /** False for lines not committed yet (blame's all-zero sha). */
  readonly committed: boolean;
}

const NOT_COMMITTED = /^0{40}$/;

/** Pure: parses `git blame --porcelain` into final-line-number -> BlameLine. */
export function parseBlamePorcelain(text: string): Map<number, BlameLine> {
  const commits = new Map<string, { authorEmail: string; authorName: string; committerTime: number }>();
  const lines = new Map<number, BlameLine>();
  const lineShas = new Map<number, string>();
  let current: { sha: string; line: number } | null = null;
  for (const raw of text.split("\n")) {
    const header = /^([0-9a-f]{40}) \d+ (\d+)(?: \d+)?$/.exec(raw);
    if (header !== null) {
      current = { sha: header[1]!, line: Number(header[2]) };
      if (!commits.has(current.sha)) commits.set(current.sha, { authorEmail: "", authorName: "", committerTime: 0 });
      continue;
    }
    if (current === null) continue;
    const info = commits.get(current.sha)!;
    if (raw.startsWith("author-mail ")) info.authorEmail = raw.slice("author-mail ".length).replace(/^<|>$/g, "");
    else if (raw.startsWith("author ")) info.authorName = raw.slice("author ".length);
    else if (raw.startsWith("committer-time ")) info.committerTime = Number(raw.slice("committer-time ".length));
    else if (raw.startsWith("\t")) {
      lineShas.set(current.line, current.sha);
      current = null;
    }
  }
  // Commit headers come only with a commit's first line, so resolve authors once all are read.
  for (const [line, sha] of lineShas) lines.set(line, { sha, ...commits.get(sha)!, committed: !NOT_COMMITTED.test(sha) });
  return lines;
}
