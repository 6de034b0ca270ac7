/**
 * A task's worktree on an agent host. gaffer keeps a bare clone of the
 * target repo under the host's `workdir` and moves commits with git's own
 * ssh transport: before a session starts, the local worktree's HEAD is pushed
 * and checked out (detached) in `<workdir>/worktrees/<task>`; after each
 * prompt, the agent's work there (its commits and uncommitted files) is
 * fetched back into the local worktree as uncommitted changes, so commits,
 * policy checks, gates and merges run on the control host exactly as for a
 * local agent. Only sshd, git and a POSIX shell are used on the host.
 */
import { remotePaths, type ResolvedHost } from "../core/hosts.js";
import { GitError } from "../errors.js";
import type { AgentHosts } from "../ports.js";
import { applyCapture, checkoutHead, fetchFromHost, pushToHost } from "../adapters/host-git.js";
import { runRemoteScript, shellQuote } from "../adapters/ssh.js";

/** The ref the base of a task's work is pushed to on the host. */
const baseRef = (task: string): string => `refs/gaffer/base/${task}`;
/** The ref the agent's work is captured in on the host. */
const syncRef = (task: string): string => `refs/gaffer/sync/${task}`;

async function remote(host: ResolvedHost, script: string, what: string): Promise<string> {
  const result = await runRemoteScript(host, script);
  if (result.exitCode !== 0) {
    throw new GitError(`${what} on agent host ${host.name} failed (exit ${result.exitCode}): ${result.stderr.trim()}; check ${host.workdir} on ${host.ssh}`, { details: { host: host.name, script, exitCode: result.exitCode, stderr: result.stderr } });
  }
  return result.stdout.trim();
}

/**
 * Makes `<workdir>/worktrees/<task>` on the host a checkout of the local
 * worktree's HEAD (creating the clone on first use) and returns its path. A
 * remote worktree already at that commit is left as it is: it may hold the
 * work of an agent whose session is being restarted or adopted.
 */
export async function prepareRemoteWorktree(host: ResolvedHost, spec: { readonly task: string; readonly worktree: string }): Promise<string> {
  const paths = remotePaths(host, spec.task);
  const q = { repo: shellQuote(paths.repo), tree: shellQuote(paths.worktree), dir: shellQuote(`${host.workdir}/worktrees`) };
  await remote(host, `mkdir -p ${q.dir} && { [ -d ${q.repo} ] || git init -q --bare ${q.repo}; }`, "creating the clone");
  const head = await checkoutHead(spec.worktree);
  await pushToHost(host, spec.worktree, { repo: paths.repo, sha: head, ref: baseRef(spec.task) });
  const sha = shellQuote(head);
  await remote(host, [
    `if [ -e ${q.tree}/.git ]; then`,
    `  cd ${q.tree} && if [ "$(git rev-parse HEAD)" != ${sha} ]; then git checkout -q --detach -f ${sha} && git clean -fdq; fi`,
    `else git --git-dir=${q.repo} worktree prune && git --git-dir=${q.repo} worktree add -q --detach ${q.tree} ${sha}; fi`,
  ].join("\n"), "preparing the worktree");
  return paths.worktree;
}

/**
 * Brings the agent's work on the host into the local worktree: its commits
 * (fast-forwarded when they build on the local HEAD) and its uncommitted
 * files (as uncommitted changes, so the usual commit step and its policy
 * checks apply). Returns the commit the work was captured in.
 */
export async function collectRemoteWork(host: ResolvedHost, spec: { readonly task: string; readonly worktree: string }): Promise<string> {
  const paths = remotePaths(host, spec.task);
  const tree = shellQuote(paths.worktree);
  // The capture commit's parent is the host's HEAD; the agent's index is left as it was.
  const capture = await remote(host, [
    `cd ${tree} && export GIT_INDEX_FILE="$(git rev-parse --git-path gaffer-capture-index)" && rm -f "$GIT_INDEX_FILE"`,
    `git read-tree HEAD && git add -A && t=$(git write-tree) && rm -f "$GIT_INDEX_FILE"`,
    `c=$(git -c user.name=gaffer -c user.email=gaffer@localhost commit-tree "$t" -p HEAD -m 'gaffer: capture of the agent work') && git update-ref ${shellQuote(syncRef(spec.task))} "$c" && echo "$c"`,
  ].join("\n"), "capturing the agent's work");
  const fetched = await fetchFromHost(host, spec.worktree, { repo: paths.repo, ref: syncRef(spec.task) });
  if (fetched !== capture) throw new GitError(`fetched ${fetched} from agent host ${host.name}, expected ${capture}; run again`);
  await applyCapture(spec.worktree, capture);
  return capture;
}

/**
 * Removes a task's worktree and its refs from the host (its work is merged
 * here): `git worktree remove --force`, falling back to deleting the
 * directory, then a prune. Nothing else under `workdir` is touched.
 */
export async function removeRemoteWorktree(host: ResolvedHost, task: string): Promise<void> {
  const paths = remotePaths(host, task);
  const q = { repo: shellQuote(paths.repo), tree: shellQuote(paths.worktree) };
  await remote(host, [
    `[ -d ${q.repo} ] || exit 0`,
    `git --git-dir=${q.repo} worktree remove --force ${q.tree} 2>/dev/null || rm -rf ${q.tree}`,
    `git --git-dir=${q.repo} worktree prune`,
    `git --git-dir=${q.repo} update-ref -d ${shellQuote(baseRef(task))} 2>/dev/null; git --git-dir=${q.repo} update-ref -d ${shellQuote(syncRef(task))} 2>/dev/null; exit 0`,
  ].join("\n"), "removing the worktree");
}

/** The AgentHosts port over ssh and git. */
export function sshAgentHosts(hosts: readonly ResolvedHost[]): AgentHosts {
  return {
    hosts,
    prepare: (host, spec) => prepareRemoteWorktree(host, spec),
    collect: async (host, spec) => {
      await collectRemoteWork(host, spec);
    },
    remove: (host, task) => removeRemoteWorktree(host, task),
  };
}
