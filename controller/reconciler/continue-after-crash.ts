/** Reads what a crashed prompt already did (git and the ledger) and writes the continue prompt for it. */
import { runGit } from "../adapters/git.js";
import { buildContinuePrompt, type InterruptedPrompt, type WorktreeProgress } from "../core/continue-prompt.js";
import type { Ledger } from "../../state/ledger.js";
import { findActiveWorktree } from "../../state/worktrees.repository.js";

const MAX_LINES = 40;

const lines = (text: string): string[] => text.split("\n").filter((l) => l.trim().length > 0);

/** Commits, diff stat and uncommitted files of the worktree since `base`. */
export async function readWorktreeProgress(worktree: string, base: string): Promise<WorktreeProgress> {
  const [log, stat, status] = await Promise.all([
    runGit(worktree, ["log", "--reverse", "--format=%H%x1f%s", `${base}..HEAD`, "--"]),
    runGit(worktree, ["diff", "--stat=120", base, "--"]),
    runGit(worktree, ["status", "--short", "--untracked-files=all"]),
  ]);
  const commits = lines(log.stdout).map((l) => {
    const [sha, subject] = l.split("\x1f");
    return { sha: sha!, subject: subject ?? "" };
  });
  return { base, commits: commits.slice(-MAX_LINES), diffStat: lines(stat.stdout).slice(-MAX_LINES), uncommitted: lines(status.stdout).slice(0, MAX_LINES) };
}

/** The interrupted prompt as its ledger row tells it. */
async function readInterrupted(db: Ledger, key: string): Promise<InterruptedPrompt> {
  const row = await db.selectFrom("commands").select(["state", "issued_at", "acknowledged_at", "evidence"]).where("idempotency_key", "=", key).executeTakeFirst();
  if (row === undefined) return { key, state: "unknown", issuedAt: "unknown", acknowledgedAt: null, reason: null };
  const evidence = row.evidence === null ? {} : (JSON.parse(row.evidence) as { reason?: unknown });
  return { key, state: row.state, issuedAt: row.issued_at, acknowledgedAt: row.acknowledged_at, reason: typeof evidence.reason === "string" ? evidence.reason : null };
}

/**
 * The prompt for the session that takes over after a crash: what the task's
 * worktree and the interrupted command show, then the original prompt.
 */
export async function continuePrompt(db: Ledger, job: { readonly task: string; readonly worktree: string; readonly text: string }, interruptedKey: string): Promise<string> {
  const record = await findActiveWorktree(db, job.task);
  const base = record?.baseSha ?? (await runGit(job.worktree, ["rev-parse", "HEAD"])).stdout.trim();
  const progress = await readWorktreeProgress(job.worktree, base).catch(() => ({ base, commits: [], diffStat: ["(the worktree could not be read)"], uncommitted: [] }));
  return buildContinuePrompt(job.task, job.text, progress, await readInterrupted(db, interruptedKey));
}
