/** `gaffer worktree create|list|remove`, `commit`, `merge`, `resolve`: the git verbs of the tool contract. */
import type { Command } from "commander";
import { UsageError } from "../errors.js";
import { workspaceContext } from "../app/contexts.js";
import { commitChanges, createWorktrees, mergeTask, resolveConflict } from "../app/workspace.js";
import { listWorktrees, removeWorktree } from "../workspace/worktrees.js";
import { overrideOf, withCommon, withControlDir, withOverride, type CommonOptions, type OverrideOptions } from "./context.js";
import { formatTable, printJson, printLine } from "./output.js";

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function output(options: CommonOptions, value: unknown, lines: () => string[]): void {
  if (options.json === true) printJson(value);
  else for (const line of lines()) printLine(line);
}

function registerWorktree(program: Command): void {
  const worktree = program.command("worktree").description("task worktrees under Project.worktreeRoot");
  withOverride(withCommon(worktree.command("create").description("create (or adopt) the worktree of a task, or of every task of a stage")))
    .option("--task <task>", "one task")
    .option("--stage <stage>", "every task of this stage")
    .action(async (options: CommonOptions & OverrideOptions & { task?: string; stage?: string }) => {
      if ((options.task === undefined) === (options.stage === undefined)) throw new UsageError("give exactly one of --task TASK or --stage STAGE");
      const outcomes = await withControlDir(options, async (ctx) =>
        createWorktrees(ctx, { ...(options.task === undefined ? { stage: options.stage! } : { tasks: [options.task] }), override: overrideOf(options) }),
      );
      output(options, outcomes, () => outcomes.map((o) => `${o.action}  ${o.task}  ${o.worktree.branch}  ${o.worktree.path}`));
    });
  withCommon(worktree.command("list").description("active task worktrees, checked against git")).action(async (options: CommonOptions) => {
    const views = await withControlDir(options, async (ctx) => listWorktrees(await workspaceContext(ctx)));
    output(options, views, () => (views.length === 0 ? ["no worktrees"] : [formatTable(views, [["TASK", (v) => v.task], ["STAGE", (v) => v.stage], ["ROLE", (v) => v.role], ["BRANCH", (v) => v.branch], ["PRESENT", (v) => (v.present ? "yes" : "MISSING")], ["PATH", (v) => v.path]])]));
  });
  withCommon(worktree.command("remove").description("remove a task's worktree (refuses uncommitted work unless --force, which saves it on a salvage branch)"))
    .requiredOption("--task <task>", "the task")
    .option("--force", "save uncommitted work on gaffer/salvage/<task>-<time>, then remove")
    .option("--delete-branch", "also delete the task branch (never a protected one)")
    .action(async (options: CommonOptions & { task: string; force?: boolean; deleteBranch?: boolean }) => {
      const result = await withControlDir(options, async (ctx) => removeWorktree(await workspaceContext(ctx), options.task, { force: options.force === true, deleteBranch: options.deleteBranch === true }));
      output(options, result, () => [`removed the worktree of ${result.task} (${result.path})`, ...(result.salvageBranch === null ? [] : [`uncommitted work saved on ${result.salvageBranch} (${result.salvageSha!.slice(0, 12)})`])]);
    });
}

export function registerWorkspaceCommands(program: Command): void {
  registerWorktree(program);
  withOverride(withCommon(program.command("commit").description("commit everything changed in a task's worktree, after the guardrails")))
    .requiredOption("--task <task>", "the task")
    .requiredOption("-m, --message <message>", "commit message (policy.commitFormat)")
    .option("--session <id>", "session that made the change (Gaffer-Session trailer)")
    .option("--command <id>", "ledger command that asked for it (Gaffer-Command trailer)")
    .option("--allow-secret <file>", "let this denylisted file through (repeatable)", collect, [])
    .action(async (options: CommonOptions & OverrideOptions & { task: string; message: string; session?: string; command?: string; allowSecret: string[] }) => {
      const result = await withControlDir(options, async (ctx) => commitChanges(ctx, { task: options.task, message: options.message, session: options.session ?? null, command: options.command ?? null, allowSecrets: options.allowSecret, override: overrideOf(options) }));
      const s = result.summary;
      output(options, result, () => [result.noop ? `nothing to commit in the worktree of ${result.task}` : `committed ${result.sha!.slice(0, 12)} on ${result.branch}: ${s.added} added, ${s.modified} modified, ${s.deleted} deleted, +${s.insertions} -${s.deletions}`]);
    });
  withOverride(withCommon(program.command("merge").description("queue a task's branch and land it on the integration branch once its gate passes")))
    .requiredOption("--task <task>", "the task")
    .action(async (options: CommonOptions & OverrideOptions & { task: string }) => {
      const row = await withControlDir(options, async (ctx) => mergeTask(ctx, { task: options.task, override: overrideOf(options) }));
      output(options, row, () => [`merged ${row.task} (${row.branch}) into ${row.target} at ${row.mergeSha!.slice(0, 12)}`]);
    });
  withOverride(withCommon(program.command("resolve").description("after a conflict was resolved in the worktree: verify no markers, gate, and re-queue")))
    .requiredOption("--task <task>", "the task")
    .action(async (options: CommonOptions & OverrideOptions & { task: string }) => {
      const result = await withControlDir(options, async (ctx) => resolveConflict(ctx, { task: options.task, override: overrideOf(options) }));
      output(options, result, () => [`resolved ${options.task} (round ${result.outcome.round}); merged into ${result.merge.target} at ${result.merge.mergeSha!.slice(0, 12)}`]);
    });
}
