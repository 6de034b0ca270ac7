import type { Command } from "commander";
import { UsageError } from "../errors.js";
import { stageAllocation } from "../app/planning.js";
import { formatAllocationReport } from "../app/text.js";
import { withCommon, withControlDir, type CommonOptions } from "./context.js";
import { printJson, printLine } from "./output.js";

export { describeBlock, formatAllocationReport } from "../app/text.js";

interface PlanOptions extends CommonOptions {
  readonly parallelism?: string;
}

export function registerPlan(program: Command): void {
  withCommon(program.command("plan").argument("<stage>", "playbook stage").description("allocation report: role -> agent/model, counts, blocked roles with reasons"))
    .option("--parallelism <n>", "sessions wanted per role (overrides each role's count)")
    .action(async (stageName: string, options: PlanOptions) => {
      const parallelism = options.parallelism === undefined ? undefined : Number(options.parallelism);
      if (parallelism !== undefined && !(Number.isInteger(parallelism) && parallelism > 0)) throw new UsageError(`--parallelism must be a positive integer (got ${options.parallelism})`);
      const report = await withControlDir(options, async (ctx) => stageAllocation(ctx, stageName, parallelism));
      if (options.json === true) printJson(report);
      else printLine(formatAllocationReport(report));
      if (!report.feasible) process.exitCode = 1;
    });
}
