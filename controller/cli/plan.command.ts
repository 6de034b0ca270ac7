import type { Command } from "commander";
import type { AllocationReport, BlockReason } from "../core/allocation.js";
import { UsageError } from "../errors.js";
import { stageAllocation } from "./actions.js";
import { withCommon, withControlDir, type CommonOptions } from "./context.js";
import { formatTable, printJson, printLine } from "./output.js";

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

export function describeBlock(reason: BlockReason): string {
  switch (reason.code) {
    case "CAPACITY_EXCEEDED":
      return `CAPACITY_EXCEEDED ${reason.scope}${reason.scope === "global" ? "" : ` ${reason.key}`}: limit ${reason.limit}, in use ${reason.inUse}, requested ${reason.requested}`;
    case "NO_ALLOWED_AGENT":
      return `NO_ALLOWED_AGENT: ${reason.detail} (allowed: ${reason.allowedAgents.join(", ")})`;
    case "MODEL_UNAVAILABLE":
      return `MODEL_UNAVAILABLE: agent ${reason.agent} has no model ${reason.model} (has: ${reason.models.join(", ")})`;
  }
}

export function formatAllocationReport(report: AllocationReport): string {
  const rows = report.roles.flatMap((role) => {
    const base = role.assignments.map((a, i) => ({ role: i === 0 ? role.role : "", agent: a.agent, model: a.model ?? "-", count: String(a.count), want: i === 0 ? `${role.allocated}/${role.requested}` : "", tasks: i === 0 ? role.tasks.join(",") || "-" : "" }));
    return base.length > 0 ? base : [{ role: role.role, agent: "-", model: "-", count: "0", want: `0/${role.requested}`, tasks: role.tasks.join(",") || "-" }];
  });
  const table = formatTable(rows, [
    ["ROLE", (r) => r.role],
    ["AGENT", (r) => r.agent],
    ["MODEL", (r) => r.model],
    ["COUNT", (r) => r.count],
    ["STAFFED", (r) => r.want],
    ["TASKS", (r) => r.tasks],
  ]);
  const blocked = report.roles.filter((r) => r.blocked.length > 0);
  const lines = [`stage ${report.stage}: capacity global ${report.inUse.global}/${report.limits.global} in use`, table];
  if (blocked.length === 0) lines.push("", "all roles staffed");
  else {
    lines.push("", "blocked roles:");
    for (const role of blocked) for (const reason of role.blocked) lines.push(`  ${role.role}: ${describeBlock(reason)}`);
  }
  return lines.join("\n");
}
