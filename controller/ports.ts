import type { ResolvedHost } from "./core/hosts.js";

/**
 * Small interfaces between the core and the outside world. Each port covers
 * only what its callers use; adapters in `adapters/` implement them.
 */

/** What a new tmux session runs, and where. */
export interface NewTmuxSession {
  /** Validated session name (see `validateSessionName`). */
  readonly name: string;
  /** Working directory of the pane. */
  readonly cwd: string;
  /** The program and its arguments, executed directly (never through a shell). */
  readonly argv: readonly string[];
  /** Extra environment for the pane. */
  readonly env?: Readonly<Record<string, string>>;
  /** The agent host to start it on (AgentPool `hosts`); null or left out: this machine. */
  readonly host?: string | null;
}

/** The pane of a session: its process and whether it has exited. */
export interface PaneState {
  /** PID of the pane's process (the agent), also its process group id. */
  readonly pid: number;
  /** True once the process exited (the pane stays, `remain-on-exit`). */
  readonly dead: boolean;
  /** Exit status of a dead pane, null while alive or when killed by a signal. */
  readonly exitStatus: number | null;
  /** Signal that killed a dead pane's process, null otherwise (or not reported yet). */
  readonly signal: number | null;
}

/** What tmux itself recorded of a session's pane: its window's last output (to the second) and whether it died. */
export interface PaneActivity {
  /** The start of the second of the window's last output, as Date.now() ms. */
  readonly activityAt: number;
  readonly dead: boolean;
}

/** gaffer's own tmux server (`tmux -L <socket>`). */
export interface Tmux {
  /** The `-L` socket name. */
  readonly socket: string;
  /** Starts a detached session; the pane remains after its process exits. */
  newSession(spec: NewTmuxSession): Promise<void>;
  /** Whether a session with exactly this name exists. */
  hasSession(name: string): Promise<boolean>;
  /** Names of all sessions on this server (empty when no server runs). */
  listSessions(): Promise<string[]>;
  /** The pane's process and liveness, or null when the session does not exist. */
  paneState(name: string): Promise<PaneState | null>;
  /** The last `lines` lines of the pane (history + screen), wrapped lines joined, trailing blank lines dropped. */
  capturePane(name: string, lines: number): Promise<string>;
  /** paneState and capturePane in one tmux call; null when the session does not exist. */
  snapshot(name: string, lines: number): Promise<{ readonly pane: PaneState; readonly screen: string } | null>;
  /** Pastes `text` as inert data: load-buffer from stdin, then a bracketed paste-buffer that deletes the buffer. */
  pasteText(name: string, text: string): Promise<void>;
  /** Presses Enter in the pane. */
  sendEnter(name: string): Promise<void>;
  /** Kills the session and its pane's whole process group; false when it did not exist. */
  killSession(name: string): Promise<boolean>;
  /** Stops the whole server (tests, cleanup). */
  killServer(): Promise<void>;
  /** The argv a person runs to attach: `tmux -L SOCKET attach -t NAME`. */
  attachArgv(name: string): string[];
}

/** Agent hosts: where a task's worktree lives on a host, and how its work comes back. */
export interface AgentHosts {
  readonly hosts: readonly ResolvedHost[];
  /** Makes the task's worktree on the host a checkout of the local worktree's HEAD; returns its path there. */
  prepare(host: ResolvedHost, spec: { readonly task: string; readonly worktree: string }): Promise<string>;
  /** Brings the agent's work on the host back into the local worktree (its commits, and its other changes uncommitted). */
  collect(host: ResolvedHost, spec: { readonly task: string; readonly worktree: string }): Promise<void>;
  /** Removes the task's worktree on the host (after its merge). */
  remove(host: ResolvedHost, task: string): Promise<void>;
}

/** One entry of `git worktree list --porcelain`. */
export interface GitWorktreeEntry {
  /** Absolute path of the checkout. */
  readonly path: string;
  /** Commit checked out, null for a bare repo. */
  readonly head: string | null;
  /** Short branch name (`main`), null when detached or bare. */
  readonly branch: string | null;
  readonly bare: boolean;
  /** Git says the directory is gone (`git worktree prune` would drop it). */
  readonly prunable: boolean;
}

/** One local branch, as `git for-each-ref refs/heads` reports it. */
export interface GitBranch {
  /** The commit the branch points at. */
  readonly sha: string;
  /** Path of the worktree that has it checked out (as git records it, even when that directory is gone), else null. */
  readonly checkout: string | null;
}

/** Object ids from one long-lived git process (`cat-file --batch-check`); close it when the pass is done. */
export interface GitObjectReader {
  /** The id of each object name (`<rev>:<path>`, `<rev>^{tree}`), null where git finds none. */
  ids(names: readonly string[]): Promise<(string | null)[]>;
  close(): Promise<void>;
}

/** One changed path from `git status --porcelain=v2`. */
export interface GitStatusEntry {
  readonly path: string;
  /** Two-letter XY code (`??` for untracked, `UU` etc. for unmerged). */
  readonly code: string;
}

/** A checkout's branch and uncommitted changes (untracked files included, ignored ones not). */
export interface GitStatus {
  /** Short branch name, null when detached. */
  readonly branch: string | null;
  /** HEAD commit, null on an unborn branch. */
  readonly head: string | null;
  readonly entries: readonly GitStatusEntry[];
}

/** One file a commit changed, with line counts (0/0 for binary files). */
export interface GitFileChange {
  readonly path: string;
  readonly change: "added" | "modified" | "deleted";
  readonly insertions: number;
  readonly deletions: number;
}

/** How bringing a branch up to date went: done, or stopped on conflicts (still in progress). */
export type GitUpdateResult = { readonly kind: "done" } | { readonly kind: "conflict"; readonly files: readonly string[] };

/** A merge computed from commits alone: the merged tree, or the paths that conflict. */
export type GitMergeTreeResult = { readonly kind: "clean"; readonly tree: string } | { readonly kind: "conflict"; readonly files: readonly string[] };

/**
 * The git operations gaffer's workspace layer uses. Every failure is a
 * GitError carrying command, cwd, exit code and stderr.
 */
export interface Git {
  /** Whether `git check-ref-format --branch NAME` accepts the name. */
  isValidBranchName(repo: string, name: string): Promise<boolean>;
  /** The commit `rev` names, or null when it does not exist. */
  resolveCommit(cwd: string, rev: string): Promise<string | null>;
  /** Whether `ancestor` is reachable from `descendant` (equal counts). */
  isAncestor(cwd: string, ancestor: string, descendant: string): Promise<boolean>;
  /** Every worktree of the repo, the main checkout first. */
  listWorktrees(repo: string): Promise<GitWorktreeEntry[]>;
  /** Adds a worktree at `path` on `branch`; with `createFrom`, creates the branch there first (`reset`: moves an existing branch there, `-B`). */
  addWorktree(repo: string, spec: { readonly path: string; readonly branch: string; readonly createFrom?: string; readonly reset?: boolean }): Promise<void>;
  /** Removes a worktree (`force` drops uncommitted changes: save them first). */
  removeWorktree(repo: string, path: string, options: { readonly force: boolean }): Promise<void>;
  /** Branch, HEAD and uncommitted changes of a checkout (untracked files too, unless `untracked: false`). */
  status(cwd: string, options?: { readonly untracked?: boolean }): Promise<GitStatus>;
  /** The checked-out branch (short name), null when detached; read from the git dir, no process. */
  currentBranch(cwd: string): Promise<string | null>;
  /** The named local branches that exist, their commits and checkouts (from the git dir, else one `for-each-ref refs/heads`). */
  branches(repo: string, names: readonly string[]): Promise<Map<string, GitBranch>>;
  /** Stages every change (`add -A`). */
  stageAll(cwd: string): Promise<void>;
  /** What is staged, against HEAD, with line counts. */
  stagedChanges(cwd: string): Promise<GitFileChange[]>;
  /** Unstages everything (`reset -q`), leaving the files as they are. */
  unstageAll(cwd: string): Promise<void>;
  /** Commits the index with `message` and trailers (as `author` when given, else git's configured user); returns the new commit. */
  commit(cwd: string, spec: { readonly message: string; readonly trailers: readonly (readonly [string, string])[]; readonly author?: { readonly name: string; readonly email: string } }): Promise<string>;
  /** Commits everything uncommitted in `cwd` (untracked included) onto a new branch, leaving HEAD alone; returns the commit. */
  snapshotToBranch(cwd: string, spec: { readonly branch: string; readonly message: string }): Promise<string>;
  /** Merges `rev` into the checked-out branch (a new merge commit unless it fast-forwards). */
  mergeInto(cwd: string, rev: string, message: string): Promise<GitUpdateResult>;
  /**
   * Makes the checked-out branch a merge commit whose first parent is `rev`
   * and second the branch's head (what `git merge --no-ff branch` on `rev`
   * would make), so `git log --first-parent rev`-side history stays readable.
   */
  mergeCommitOnto(cwd: string, rev: string, message: string): Promise<GitUpdateResult>;
  /** Merges commit `theirs` into `ours` without touching a checkout (`merge-tree --write-tree`, attributes from `cwd`). */
  mergeTree(cwd: string, ours: string, theirs: string): Promise<GitMergeTreeResult>;
  /** A new commit of `tree` with `parents` in that order; no ref moves. */
  commitTree(cwd: string, spec: { readonly tree: string; readonly parents: readonly string[]; readonly message: string }): Promise<string>;
  /** Fast-forwards the checked-out branch to `to` only if nothing tracked is uncommitted (one process); `unclean`, git's complaint, or null when done. */
  fastForwardIfClean(path: string, to: string): Promise<"unclean" | string | null>;
  /** Rebases the checked-out branch onto `rev`. */
  rebaseOnto(cwd: string, rev: string): Promise<GitUpdateResult>;
  /** Replaces the checked-out branch with one commit on top of `rev` holding the branch's changes. */
  squashOnto(cwd: string, rev: string, message: string): Promise<GitUpdateResult>;
  /** Aborts a merge, rebase or squash in progress (no-op when none is); the tree is clean afterwards. */
  abortInProgress(cwd: string): Promise<void>;
  /** Moves `ref` from `oldSha` to `newSha` atomically; false when the ref no longer points at `oldSha`. */
  updateRef(repo: string, spec: { readonly ref: string; readonly newSha: string; readonly oldSha: string; readonly reason: string }): Promise<boolean>;
  /** Paths of the checkouts (main and linked worktrees) that have `branch` checked out. */
  checkoutsOf(repo: string, branch: string): Promise<string[]>;
  /** In a checkout of the branch: fast-forwards it to `to` (ref, index and files together; local changes kept unless touched). Returns git's complaint, or null. */
  fastForwardCheckout(path: string, to: string): Promise<string | null>;
  /** Moves a checkout's index and files from tree `from` to `to` keeping local changes (`read-tree -m -u`); with dryRun only checks. Returns git's complaint, or null. */
  syncCheckout(path: string, spec: { readonly from: string; readonly to: string; readonly dryRun: boolean }): Promise<string | null>;
  /** `git diff --check` findings about leftover conflict markers between `base` and the working tree. */
  conflictMarkerFindings(cwd: string, base: string): Promise<string[]>;
  /** Subjects of commits in `base..head`, oldest first. */
  subjects(cwd: string, base: string, head: string): Promise<string[]>;
  /** Per `Gaffer-Task:` trailer value, the newest commit reachable from `rev` carrying it (`range` limits the walk, e.g. `base..main`). */
  taskTrailers(cwd: string, range: string): Promise<Map<string, string>>;
  /** Paths (repo-relative) that differ between commits `from` and `to`. */
  changedPaths(cwd: string, from: string, to: string, limitTo?: readonly string[]): Promise<string[]>;
  /** A reader for many object-id lookups in `repo` through one git process. */
  openObjectReader(repo: string): GitObjectReader;
  /** git's housekeeping when it is due (`maintenance run --auto`), which gaffer's own git calls skip; once per merge-queue pass. */
  runAutoMaintenance(repo: string): Promise<void>;
  /** Deletes a local branch (callers check protection first). */
  deleteBranch(repo: string, branch: string, options: { readonly force: boolean }): Promise<void>;
}

/**
 * Whether a session's pane may have changed since a time: fed by tmux
 * control-mode notifications (output, pane death), so unchanged panes are not
 * captured again. Without notifications every answer is true (polling).
 */
export interface ScreenActivity {
  /** True when the pane produced output or died after `since` (Date.now() ms), or when that cannot be known. */
  changedSince(session: string, since: number): boolean;
  /**
   * Resolves when the pane produces output or dies after `since`, when the
   * session is killed, on `wakeAll`, or after `maxMs`; without notifications
   * for the session, after a short poll interval instead.
   */
  nextChange(session: string, since: number, maxMs: number): Promise<void>;
  /** Wakes every `nextChange` waiter (another process wrote the ledger: a queued text, a hook event). */
  wakeAll(): void;
  /** Wakes the session's `nextChange` waiters (a look found its screen changed although no output was notified). */
  wakeSession(session: string): void;
  /**
   * tmux's own record of every session's last output and pane death, in one
   * command (a check of notifications that costs no capture); absent where
   * the server's clock may not be this machine's (agent hosts).
   */
  paneActivity?(): Promise<ReadonlyMap<string, PaneActivity>>;
}

/** Stops a timer or a watch. */
export type Cancel = () => void;

/**
 * Time for the controller's loop: the resync and health timers. The entry
 * point passes the system clock (`adapters/clock.ts`); a test may pass its own.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` every `ms` until cancelled. */
  every(ms: number, fn: () => void): Cancel;
}

/** Changes under directories (manifests/, approvals, the control repo's refs), one call per burst. */
export interface Watcher {
  /** Calls `onChange` once per burst of changes under `paths`; `close` stops watching. */
  watch(paths: readonly string[], onChange: () => void): { close(): Promise<void> };
}
