import type { Command } from "commander";
import { UsageError } from "../errors.js";
import { runGate } from "../app/workspace.js";
import { formatGateResult } from "../gates/task-gate.js";
import { withCommon, withControlDir, type CommonOptions } from "./context.js";
import { printJson, printLine } from "./output.js";

/** `gaffer gate run --task T`: the task's gate in its worktree, ledgered; exit 1 when it fails. */
export function registerGate(program: Command): void {
  const gate = program.command("gate").description("quality gates");
  withCommon(gate.command("run").description("run a task's gate (its commands; a review needs the controller's reviewer session) in its worktree"))
    .option("--task <task>", "the task whose gate runs")
    .action(async (options: CommonOptions & { task?: string }) => {
      if (options.task === undefined) throw new UsageError("gate run needs --task TASK");
      const task = options.task;
      const result = await withControlDir(options, async (ctx) => runGate(ctx, { task }));
      if (options.json === true) printJson(result);
      else printLine(formatGateResult(result));
      if (!result.passed) process.exitCode = 1;
    });
}
