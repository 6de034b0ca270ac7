/**
 * The local side of an agent host's worktree: git's own ssh transport (push,
 * fetch) and the reads and updates around it, all through `runGit`, so each
 * failure is the adapter's GitError (command, cwd, exit code, stderr) with
 * the next step for a host added.
 */
import type { ResolvedHost } from "../core/hosts.js";
import { GitError } from "../errors.js";
import { runGit, type GitRunOptions } from "./git.js";
import { gitSshCommand, gitUrl } from "./ssh.js";

const HINT = "check the agent host's workdir and the local worktree";

async function hostGit(cwd: string, args: readonly string[], options: GitRunOptions = {}): Promise<string> {
  try {
    return (await runGit(cwd, args, options)).stdout.trim();
  } catch (error) {
    if (!(error instanceof GitError)) throw error;
    throw new GitError(`${error.message}; ${HINT}`, { cause: error, details: error.details });
  }
}

/** The commit checked out in `cwd`. */
export async function checkoutHead(cwd: string): Promise<string> {
  return hostGit(cwd, ["rev-parse", "HEAD"]);
}

/** Pushes commit `sha` of the checkout at `cwd` to `ref` of the host's bare clone at `repo` (forced: gaffer owns the ref). */
export async function pushToHost(host: ResolvedHost, cwd: string, spec: { readonly repo: string; readonly sha: string; readonly ref: string }): Promise<void> {
  await hostGit(cwd, ["push", "-q", "--force", "--no-verify", gitUrl(host, spec.repo), `${spec.sha}:${spec.ref}`], { env: { GIT_SSH_COMMAND: gitSshCommand(host) } });
}

/** Fetches `ref` of the host's bare clone at `repo` into `cwd`; returns the commit fetched (FETCH_HEAD). */
export async function fetchFromHost(host: ResolvedHost, cwd: string, spec: { readonly repo: string; readonly ref: string }): Promise<string> {
  await hostGit(cwd, ["fetch", "-q", "--no-tags", gitUrl(host, spec.repo), spec.ref], { env: { GIT_SSH_COMMAND: gitSshCommand(host) } });
  return hostGit(cwd, ["rev-parse", "FETCH_HEAD"]);
}

/**
 * Brings a capture commit (the agent's commits, then its files on top) into
 * the checkout at `cwd`: a fast-forward to the capture's parent when it
 * builds on HEAD (rewritten history comes back as changes instead), then the
 * capture's files as uncommitted changes (`read-tree -m -u`, nothing staged).
 */
export async function applyCapture(cwd: string, capture: string): Promise<void> {
  await runGit(cwd, ["merge", "-q", "--ff-only", `${capture}^`], { ok: [1, 128] });
  await hostGit(cwd, ["read-tree", "-m", "-u", "HEAD", capture]);
  await hostGit(cwd, ["reset", "-q"]);
}
