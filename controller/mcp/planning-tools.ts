/** Group A, planning / allocation: plan_stage_allocation, propose_stage_execution. */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { proposeStage, stageAllocation } from "../app/planning.js";
import { formatAllocationReport } from "../app/text.js";
import type { StagePlan } from "../core/stage-plan.js";
import { anyObject, registerStrictTool, stageArg } from "./tool-args.js";
import type { ToolRunner } from "./tool-call.js";

function proposalText(plan: StagePlan): string {
  const lines = [formatAllocationReport(plan.report), "", "worktrees:"];
  for (const w of plan.proposal.worktrees) lines.push(`  ${w.task} (${w.role}): ${w.branch} from ${w.base} at ${w.path}`);
  if (plan.proposal.worktrees.length === 0) lines.push("  none (the stage has no tasks)");
  lines.push("", `plan digest ${plan.digest}`);
  lines.push(plan.request === null ? "no approval needed (no needs and approval: none)" : `approval request ${plan.request.id} (${plan.request.requiredApprovals} approval(s) required): request_stage_approval writes it for a person to approve`);
  return lines.join("\n");
}

const READ_ONLY = { readOnlyHint: true, destructiveHint: false, idempotentHint: true } as const;

export function registerPlanningTools(server: McpServer, run: ToolRunner): void {
  registerStrictTool(server, "plan_stage_allocation", {
    title: "Plan a stage's allocation",
    description: "Allocation report for a stage, as `gaffer plan STAGE`: each role's agent/model assignments and counts, and blocked roles with reasons (CAPACITY_EXCEEDED, NO_ALLOWED_AGENT, MODEL_UNAVAILABLE), against the capacity in use now. Read-only.",
    input: {
      stage: stageArg,
      requested_parallelism: z.number().int().positive().optional().describe("sessions wanted per role (overrides each role's count)"),
    },
    output: { stage: z.string(), roles: z.array(anyObject("a role's assignments and blocks")), feasible: z.boolean().describe("every role staffed"), limits: anyObject("capacity limits"), inUse: anyObject("capacity in use") },
    annotations: READ_ONLY,
  }, async ({ stage, requested_parallelism }) =>
    run(async (ctx) => {
      const report = await stageAllocation(ctx, stage, requested_parallelism);
      return { structured: { ...report }, text: formatAllocationReport(report) };
    }));
  registerStrictTool(server, "propose_stage_execution", {
    title: "Propose a stage's execution",
    description: "The stage's proposal, as the controller computes it: allocation, worktree plan (task, branch, base, path), plan digest and the approval request a person would answer. Read-only: request_stage_approval writes it to the stage's status file.",
    input: { stage: stageArg },
    output: { stage: z.string(), allocation: anyObject("the allocation report"), proposal: anyObject("allocation and worktree plan"), planDigest: z.string(), approvalRequired: z.boolean(), approvalRequest: anyObject("id, planDigest, requiredApprovals").nullable() },
    annotations: READ_ONLY,
  }, async ({ stage }) =>
    run(async (ctx) => {
      const plan = await proposeStage(ctx, stage);
      return { structured: { stage: plan.stage.name, allocation: plan.report, proposal: plan.proposal, planDigest: plan.digest, approvalRequired: plan.approvalRequired, approvalRequest: plan.request }, text: proposalText(plan) };
    }));
}
