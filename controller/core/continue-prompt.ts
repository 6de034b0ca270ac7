/**
 * The prompt a restarted session gets after its agent crashed (or its tmux
 * server was killed) mid-prompt: it names what already happened (commits
 * since the task started, the worktree's diff against its start, what is
 * uncommitted, and how far the last prompt got) and asks the agent to finish
 * what is left, not to redo it. Pure: the facts are read by the caller.
 */

/** What the worktree shows now, against the commit the task started from. */
export interface WorktreeProgress {
  /** The integration head the task branch started from. */
  readonly base: string;
  /** Commits on the task branch since `base`, oldest first. */
  readonly commits: readonly { readonly sha: string; readonly subject: string }[];
  /** `git diff --stat BASE` lines (committed and uncommitted changes to tracked files). */
  readonly diffStat: readonly string[];
  /** `git status --short` lines (uncommitted changes, untracked files included). */
  readonly uncommitted: readonly string[];
}

/** How far the interrupted prompt got, from its ledger row. */
export interface InterruptedPrompt {
  readonly key: string;
  readonly state: string;
  readonly issuedAt: string;
  readonly acknowledgedAt: string | null;
  /** Why it ended (`session crashed`, `session stuck`), when known. */
  readonly reason: string | null;
}

/** The first line of every continue prompt (agents and tests recognise it). */
export const CONTINUE_HEADER = "# gaffer: continue after a crash.";

const quote = (lines: readonly string[], indent = "#   "): string[] => lines.map((l) => `${indent}${l}`.trimEnd());

/** The continue prompt: what already happened, the request to finish only what is left, then the original prompt. */
export function buildContinuePrompt(task: string, prompt: string, progress: WorktreeProgress, last: InterruptedPrompt): string {
  const ended = `${last.state}${last.reason === null ? "" : `: ${last.reason}`}`;
  const taken = last.acknowledgedAt === null ? "the agent had not yet acknowledged it" : `the agent acknowledged it at ${last.acknowledgedAt}`;
  return [
    `${CONTINUE_HEADER} Your previous session on task ${task} ended (${ended}) while working on the prompt below.`,
    `# The prompt (${last.key}) was sent at ${last.issuedAt}; ${taken}; it never finished.`,
    `# Already done in this worktree since the task started from ${progress.base.slice(0, 12)}:`,
    `# Commits (oldest first):${progress.commits.length === 0 ? " none" : ""}`,
    ...quote(progress.commits.map((c) => `${c.sha.slice(0, 12)} ${c.subject}`)),
    `# Changes against the start (git diff --stat):${progress.diffStat.length === 0 ? " none" : ""}`,
    ...quote(progress.diffStat),
    `# Uncommitted (git status --short):${progress.uncommitted.length === 0 ? " none" : ""}`,
    ...quote(progress.uncommitted),
    "# Do NOT redo any of that: check the files and the commits above, finish only what is left of the prompt, then stop.",
    "# The prompt was:",
    prompt,
  ].join("\n");
}
