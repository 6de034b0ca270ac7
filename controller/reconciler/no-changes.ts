/**
 * "Done" is not "did something" (issue 10): a work prompt the agent finished
 * without leaving any change in the task's worktree is sent back once, then
 * the task fails with NO_CHANGES instead of gating and merging nothing.
 */
import { NoChangesError } from "../errors.js";
import type { Git } from "../ports.js";
import { appendEvent } from "../../state/events.repository.js";
import type { AgentJob, AgentJobResult } from "./agent-runner.js";
import type { World } from "./world.js";


/** What the worktree shows against its base: uncommitted paths and whether HEAD moved past the base. */
export interface WorktreeWork {
  readonly uncommitted: number;
  readonly newCommits: boolean;
  readonly head: string | null;
}

/** Reads the worktree's uncommitted changes (untracked included, ignored not) and whether HEAD has commits the base lacks. */
export async function readWorktreeWork(git: Git, worktree: string, baseSha: string): Promise<WorktreeWork> {
  const status = await git.status(worktree);
  const newCommits = status.head !== null && status.head !== baseSha && !(await git.isAncestor(worktree, status.head, baseSha));
  return { uncommitted: status.entries.length, newCommits, head: status.head };
}

const hasWork = (w: WorktreeWork): boolean => w.uncommitted > 0 || w.newCommits;

/** The follow-up prompt: says plainly that nothing changed, then repeats the task's prompt. */
export function noChangesPrompt(task: string, base: string, prompt: string): string {
  return [
    `# gaffer: your previous session on task ${task} reported the work finished, but the worktree has no change and no new commit since ${base.slice(0, 12)}.`,
    "# Nothing changed, so there is nothing to gate or merge. Do the task below now and leave the change in this worktree (commit it or leave it uncommitted).",
    "# If the task truly needs no change, say so in one line and stop: the task will then fail as NO_CHANGES for a person to decide.",
    "# The task was:",
    prompt.trimEnd(),
  ].join("\n");
}

/** The job's worktree record (its base commit), or null when there is none to compare with. */
async function baseOf(world: World, task: string): Promise<string | null> {
  const row = await world.db.selectFrom("worktrees").select("base_sha").where("task", "=", task).where("state", "=", "active").executeTakeFirst();
  return row?.base_sha ?? null;
}

/**
 * Runs a work prompt and checks the worktree afterwards: with no change and no
 * new commit against the worktree's base, the agent gets one follow-up prompt
 * (its own idempotency key, ledgered `AgentNoChanges`); still nothing, and the
 * job throws NO_CHANGES. Either round's result is returned when work is there.
 */
export async function runExpectingChanges(world: () => World, run: (job: AgentJob) => Promise<AgentJobResult>, job: AgentJob): Promise<AgentJobResult> {
  const first = await run(job);
  const task = job.task.metadata.name;
  const base = await baseOf(world(), task);
  if (base === null || job.signal.aborted) return first;
  const before = await readWorktreeWork(world().git, job.worktree, base);
  if (hasWork(before)) return first;
  const note = (round: number, result: AgentJobResult): Promise<number> =>
    appendEvent(world().db, { actor: world().actor, action: "AgentNoChanges", subject: `task/${task}`, payload: { key: job.key, round, session: result.sessionId, base, head: before.head, summary: result.summary.slice(0, 500), next: round === 1 ? "follow-up prompt" : "task fails NO_CHANGES" } });
  await note(1, first);
  const second = await run({ ...job, key: `${job.key}:no-changes`, text: noChangesPrompt(task, base, job.task.spec.prompt) });
  if (job.signal.aborted || hasWork(await readWorktreeWork(world().git, job.worktree, base))) return second;
  await note(2, second);
  throw new NoChangesError(`the agent finished without changing anything: after the prompt and one follow-up the worktree ${job.worktree} has no change and no commit since ${base.slice(0, 12)}; read the sessions' last screens (\`gaffer log --subject task/${task}\`), fix the task's prompt if the work is already done or unclear, then \`gaffer retry ${task}\``, { details: { task, base, sessions: [first.sessionId, second.sessionId] } });
}
