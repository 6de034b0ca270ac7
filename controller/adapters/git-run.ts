/**
 * One git process: `runGit` starts `git` with an argv array (never a shell
 * string) and gaffer's git environment through the light child runner
 * (child-run.ts), and turns a failure into a GitError carrying command, cwd,
 * exit code and stderr.
 */
import { GitError } from "../errors.js";
import { runChild } from "./child-run.js";

/** What one git process returned. */
export interface GitOutput {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

export interface GitRunOptions {
  /** Exit codes that are answers, not failures (e.g. 1 for `merge-base --is-ancestor`). */
  readonly ok?: readonly number[];
  /** Text for stdin. */
  readonly input?: string;
  /** More environment for this call (e.g. `GIT_SSH_COMMAND` for a transport). */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * `maintenance.auto=false` for every git gaffer starts, added to any
 * `GIT_CONFIG_COUNT` entries of the environment: each commit and merge would
 * otherwise start a `git maintenance run --auto` after its work, one more git
 * process every time; the merge queue runs it once per pass instead.
 */
function noAutoMaintenance(env: NodeJS.ProcessEnv): Record<string, string> {
  const count = Number.parseInt(env.GIT_CONFIG_COUNT ?? "0", 10) || 0;
  return { GIT_CONFIG_COUNT: String(count + 1), [`GIT_CONFIG_KEY_${count}`]: "maintenance.auto", [`GIT_CONFIG_VALUE_${count}`]: "false" };
}

// NOTE: LC_ALL=C keeps messages parseable; GIT_EDITOR/GIT_MERGE_AUTOEDIT stop git from ever opening an editor.
/** GIT_OPTIONAL_LOCKS=0: a read (`git status`) never takes `index.lock` under an agent's or a person's commit. */
export const GIT_ENV = { LC_ALL: "C", GIT_TERMINAL_PROMPT: "0", GIT_EDITOR: "true", GIT_MERGE_AUTOEDIT: "no", GIT_OPTIONAL_LOCKS: "0", ...noAutoMaintenance(process.env) };

/** Runs `git ARGS` in `cwd`; a non-zero exit not listed in `ok` throws GitError with command, cwd, exit code and stderr. */
export async function runGit(cwd: string, args: readonly string[], options: GitRunOptions = {}): Promise<GitOutput> {
  // NOTE: the environment is read per call: a test may point GIT_TRACE2_EVENT at a file meanwhile.
  const env = { ...process.env, ...GIT_ENV, ...options.env };
  const result = await runChild("git", args, { cwd, env, ...(options.input === undefined ? {} : { input: options.input }) });
  const exitCode = result.exitCode ?? -1;
  const output = { stdout: result.stdout, stderr: result.stderr, exitCode };
  if (exitCode === 0 || (options.ok ?? []).includes(exitCode)) return output;
  // NOTE: ssh (a transport git starts) ends its lines with \r\n.
  const firstLine = output.stderr.split("\n").map((l) => l.trim()).find((l) => l.length > 0) ?? result.failure ?? "no output";
  throw new GitError(`git ${args.join(" ")} failed in ${cwd} (exit ${exitCode}): ${firstLine}`, {
    cause: result,
    details: { command: ["git", ...args], cwd, exitCode, stderr: output.stderr },
  });
}
