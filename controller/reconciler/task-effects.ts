import { fromPromise } from "xstate";
import { findTask } from "../core/project-config.js";
import { GateFailedError, NotFoundError } from "../errors.js";
import { runGate, taskGate, missingGateReason, type GateResult } from "../gates/gate-runner.js";
import type { EffectInput, GateOutcome, MergeOutcome, TaskEffects } from "../machines/task.machine.js";
import { commitChanges } from "../workspace/commit.js";
import { targetRepoPath, worktreeRootPath, type WorkspaceContext } from "../workspace/context.js";
import { resolveMergeConflict } from "../workspace/conflicts.js";
import { mergeWorktree } from "../workspace/merge-queue.js";
import { createWorktree } from "../workspace/worktrees.js";
import { latestResolveJob } from "../../state/resolve-jobs.repository.js";
import { findActiveWorktree } from "../../state/worktrees.repository.js";
import { join } from "node:path";
import { AgentRunner } from "./agent-runner.js";
import { removeHostWorktrees } from "./host-steps.js";
import { journaled } from "./effect-journal.js";
import { runExpectingChanges } from "./no-changes.js";
import { removeBrokenWorktreeEntries, rollBackWorktreeAdd } from "./worktree-repair.js";
import type { World } from "./world.js";


/** Runs the functions given to it one at a time, in call order. */
function oneAtATime(): <T>(fn: () => Promise<T>) => Promise<T> {
  let turn: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const run = turn.then(fn, fn);
    turn = run.catch(() => undefined);
    return run;
  };
}

/**
 * One merge at a time per controller process: the queue's lease is
 * per process, so two tasks of this process must not work it side by side.
 */
const serialized = oneAtATime();

/**
 * One worktree provisioning at a time per process: concurrent `git worktree
 * add`s in one repo read each other's half-written admin entries ("failed to
 * read .git/worktrees/<other>/commondir"), and the broken-entry repair must
 * not mistake a sibling's add in progress for a killed one.
 */
const provisioning = oneAtATime();

/** Merge rows that ended `failed` (the integration branch moved, a lease broke) are retried, not sent back to the agent. */
const MERGE_RETRIES = 3;

function workspace(world: World): WorkspaceContext {
  return { db: world.db, git: world.git, config: world.config, manifests: world.set, controlDir: world.dir, actor: world.actor, recordTaskPhases: false };
}

function requireManifest(world: World, name: string) {
  const task = findTask(world.set, name);
  if (task === undefined) throw new NotFoundError(`task ${name} is no longer in the manifests`);
  return task;
}

/** The agent's prompt for one work round: the task's prompt, plus the gate's failure output after a failed round. */
export function workPrompt(prompt: string, input: EffectInput): string {
  if (input.feedback === null) return prompt;
  return `${prompt.trimEnd()}\n\n# Round ${input.attempt}: the gate failed on your last change. Fix it. Gate output:\n${input.feedback
    .split("\n")
    .map((l) => `# ${l}`)
    .join("\n")}`;
}

/** The prompt's idempotency key: round 0 keeps the original form, a retry round gets its own keys. */
export function workKey(input: Pick<EffectInput, "task" | "attempt" | "round">): string {
  const round = input.round ?? 0;
  return round === 0 ? `task:${input.task}:work:${input.attempt}` : `task:${input.task}:r${round}:work:${input.attempt}`;
}

/**
 * The resolve prompt's idempotency key: like the work key, a retry round gets
 * its own (`task:NAME:rROUND:resolve:N`), so a retried task's resolve prompt is
 * never taken for the earlier round's, already delivered one.
 */
export function resolveKey(input: Pick<EffectInput, "task" | "resolveAttempt" | "round">): string {
  const round = input.round ?? 0;
  return round === 0 ? `task:${input.task}:resolve:${input.resolveAttempt}` : `task:${input.task}:r${round}:resolve:${input.resolveAttempt}`;
}

function gateSummary(result: GateResult): string {
  const failed = result.commands.filter((c) => c.state === "failed").map((c) => `$ ${c.command.join(" ")} (exit ${c.exitCode ?? "timeout"})\n${c.outputTail.trim().split("\n").slice(-15).join("\n")}`);
  const review = result.review !== null && !result.review.approved ? [`review by ${result.review.reviewer}: ${result.review.summary}`] : [];
  return [...failed, ...review, ...(result.reason === null ? [] : [result.reason])].join("\n") || "gate failed";
}

/**
 * The real effects of the task machine: git worktrees, agent sessions in
 * tmux, policy-checked commits, gates, and the merge queue. Each is
 * idempotent (worktrees are adopted, prompts carry idempotency keys, an
 * empty commit is a no-op, the merge queue finds an already-merged branch),
 * so a restarted controller can run the current state's effect again.
 */
export function buildTaskEffects(world: () => World): TaskEffects {
  const agents = new AgentRunner(world);
  return {
    provisionWorktree: fromPromise<{ path: string; branch: string }, EffectInput>(async ({ input }) => {
      const w = world();
      const ctx = workspace(w);
      const existing = await findActiveWorktree(w.db, input.task);
      if (existing !== null) return { path: existing.path, branch: existing.branch };
      const repo = targetRepoPath(ctx);
      const path = join(worktreeRootPath(ctx), input.task);
      const outcome = await provisioning(() =>
        journaled(w.db, w.actor, { key: `worktree:${input.task}`, kind: "worktree", rollback: () => rollBackWorktreeAdd(repo, path) }, () => {
          // Another task's worktree add, killed halfway, must not block this one.
          const repaired = removeBrokenWorktreeEntries(repo);
          if (repaired.length > 0) w.logger.warn({ repaired }, "removed half-created git worktree entries");
          return createWorktree(ctx, input.task);
        }),
      );
      return { path: outcome.worktree.path, branch: outcome.worktree.branch };
    }),
    runAgent: fromPromise<{ summary: string }, EffectInput>(async ({ input, signal }) => {
      const w = world();
      const task = requireManifest(w, input.task);
      const worktree = await findActiveWorktree(w.db, input.task);
      if (worktree === null) throw new NotFoundError(`task ${input.task} has no worktree`);
      // A finished prompt that changed nothing gets one follow-up, then fails NO_CHANGES (never a merge of nothing).
      const result = await runExpectingChanges(world, (job) => agents.run(job), { task, role: task.spec.role, worktree: worktree.path, text: workPrompt(task.spec.prompt, input), key: workKey(input), signal });
      return { summary: result.summary };
    }),
    commitWork: fromPromise<{ sha: string | null }, EffectInput>(async ({ input }) => {
      const w = world();
      const session = await agents.lastSession(input.task);
      const result = await commitChanges(workspace(w), { task: input.task, message: `chore(${input.task}): work of round ${input.attempt}`, session });
      return { sha: result.sha };
    }),
    runGate: fromPromise<GateOutcome, EffectInput>(async ({ input, signal }) => {
      const w = world();
      const task = requireManifest(w, input.task);
      const worktree = await findActiveWorktree(w.db, input.task);
      if (worktree === null) throw new NotFoundError(`task ${input.task} has no worktree`);
      const gate = taskGate(w.set, task);
      const missing = missingGateReason(gate);
      // Not the agent's to fix: fail the task at once instead of sending it rounds it cannot win.
      if (missing !== null || gate === null) throw new GateFailedError(`no gate to decide on: ${missing}; a stage passes only on evidence, so add gate.commands to the stage or the task`);
      const head = await w.git.resolveCommit(worktree.path, "HEAD");
      const result = await runGate({ db: w.db, actor: w.actor, task: input.task, worktree: worktree.path, gate, headSha: head, reviewer: agents.reviewer(task, signal) });
      return { passed: result.passed, summary: result.passed ? "" : gateSummary(result) };
    }),
    mergeBranch: fromPromise<MergeOutcome, EffectInput>(async ({ input, signal }) => {
      const w = world();
      const task = requireManifest(w, input.task);
      // Merged before a restart, or by another process (a broken lease): mergeWorktree recognises it
      // from the ledger or from git, inside the serialized section, and returns the landed row.
      for (let round = 1; ; round++) {
        const merge = await serialized(() => mergeWorktree(workspace(w), input.task, { reviewer: agents.reviewer(task, signal) }));
        if (merge.state === "merged") {
          await agents.closeTaskSessions(input.task, "task merged");
          await removeHostWorktrees(w, input.task);
          return { result: "merged", sha: merge.mergeSha ?? "" };
        }
        if (merge.state === "conflict") return { result: "conflict", files: merge.conflictedFiles ?? [] };
        if (merge.state === "refused") return { result: "gate-failed", summary: merge.reason ?? "the gate refused the merge" };
        if (round >= MERGE_RETRIES) throw new Error(`merge ${merge.state} ${round} times: ${merge.reason ?? "no reason recorded"}`);
      }
    }),
    resolveConflict: fromPromise<{ summary: string }, EffectInput>(async ({ input, signal }) => {
      const w = world();
      const task = requireManifest(w, input.task);
      // Resolved before a restart (the controller died before recording Merging): done, not resolved again.
      const job = await latestResolveJob(w.db, input.task);
      if (job !== null && job.state === "done") return { summary: `resolved in round ${job.round}` };
      // The branch re-enters the queue in the Merging state that follows.
      const outcome = await resolveMergeConflict(workspace(w), input.task, { resolver: agents.resolver(task, resolveKey(input), signal), reviewer: agents.reviewer(task, signal) });
      if (!outcome.resolved) throw new Error(outcome.reason ?? "conflict not resolved");
      return { summary: `resolved in round ${outcome.round}` };
    }),
  };
}
