/** Group D, governance / quality: request_stage_approval, run_quality_gate, write_project_memory, read_project_memory. */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { requestStageApproval } from "../app/stage-approval.js";
import { formatEntry } from "../app/text.js";
import { runGate } from "../app/workspace.js";
import { formatGateResult } from "../gates/task-gate.js";
import { MEMORY_KINDS, readMemory, writeMemory } from "../memory/project-memory.js";
import { anyObject, registerStrictTool, stageArg, taskArg } from "./tool-args.js";
import type { ToolRunner } from "./tool-call.js";

function registerApproval(server: McpServer, run: ToolRunner): void {
  registerStrictTool(server, "request_stage_approval", {
    title: "Request a stage's approval",
    description: "Write the stage's proposal (allocation, worktree plan) and approval request into status/stages/<stage>.yaml, keeping the people's approvals: list. It can never approve: a person approves by committing an approval (`gaffer approve STAGE` from their own shell), checked against policy.approvers; commits made for agent sessions never count. Returns the request id and where it stands.",
    input: { stage: stageArg },
    output: { stage: z.string(), requestId: z.string(), planDigest: z.string(), requiredApprovals: z.number(), proposal: anyObject("the proposal"), file: z.string(), written: z.boolean(), approved: z.boolean(), approval: anyObject("the Approved condition: status, reason, message"), howToApprove: z.string() },
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true },
  }, async ({ stage }) =>
    run(async (ctx) => {
      const request = await requestStageApproval(ctx, stage);
      const state = request.approved ? `already approved (${request.approval.message})` : `not approved (${request.approval.reason}): ${request.howToApprove}`;
      return { structured: { ...request }, text: `approval request ${request.requestId} for stage ${stage} ${request.written ? "written to" : "already in"} ${request.file}; ${state}` };
    }));
}

function registerGate(server: McpServer, run: ToolRunner): void {
  registerStrictTool(server, "run_quality_gate", {
    title: "Run a task's quality gate",
    description: "Run the task's gate commands (its own gate, else its stage's) in its own worktree on the current head, each ledgered with its exit code, duration and output tail. A gate that ran and failed is a result with passed: false, not a tool error. A gate requiring a review verdict does not pass here: the controller's reviewer gives it.",
    input: { task_id: taskArg },
    output: { task: z.string(), attempt: z.number(), passed: z.boolean(), reason: z.string().nullable(), headSha: z.string().nullable(), commands: z.array(anyObject("one gate command's evidence")), reviewRequired: z.boolean(), review: anyObject("the review verdict").nullable() },
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
  }, async ({ task_id }) =>
    run(async (ctx) => {
      const result = await runGate(ctx, { task: task_id });
      return { structured: { ...result }, text: formatGateResult(result) };
    }));
}

const memoryKind = z.enum(MEMORY_KINDS);
const entryShape = { id: z.number(), kind: z.string(), stage: z.string().nullable(), task: z.string().nullable(), title: z.string(), path: z.string(), author: z.string(), created: z.string() };

function registerWriteMemory(server: McpServer, run: ToolRunner): void {
  registerStrictTool(server, "write_project_memory", {
    title: "Write project memory",
    description: "Write a markdown entry to the control dir's memory/ (plans, decisions, review findings, summaries, notes) and index it in the ledger, as `gaffer memory write`.",
    input: {
      kind: memoryKind.describe(`entry kind: ${MEMORY_KINDS.join(", ")}`),
      title: z.string().min(1).describe("title"),
      body: z.string().describe("markdown body"),
      stage: z.string().min(1).optional().describe("stage it is about"),
      task: z.string().min(1).optional().describe("task it is about"),
    },
    output: entryShape,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
  }, async (args) =>
    run(async (ctx) => {
      const entry = await writeMemory({ dir: ctx.dir, db: await ctx.openLedger(), kind: args.kind, title: args.title, body: args.body, stage: args.stage ?? null, task: args.task ?? null, author: ctx.actor, actor: ctx.actor });
      return { structured: { ...entry }, text: `wrote ${entry.kind} "${entry.title}" to ${entry.path} (memory #${entry.id})` };
    }));
}

function registerReadMemory(server: McpServer, run: ToolRunner): void {
  registerStrictTool(server, "read_project_memory", {
    title: "Read project memory",
    description: "Memory entries, oldest first, with their bodies, optionally filtered by kind, stage and task, as `gaffer memory read`. Read-only.",
    input: {
      kind: memoryKind.optional().describe(`only this kind: ${MEMORY_KINDS.join(", ")}`),
      stage: z.string().min(1).optional().describe("only entries about this stage"),
      task: z.string().min(1).optional().describe("only entries about this task"),
    },
    output: { entries: z.array(z.looseObject({ ...entryShape, body: z.string().nullable() })) },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true },
  }, async (args) =>
    run(async (ctx) => {
      const entries = await readMemory({ dir: ctx.dir, db: await ctx.openLedger(), ...(args.kind === undefined ? {} : { kind: args.kind }), ...(args.stage === undefined ? {} : { stage: args.stage }), ...(args.task === undefined ? {} : { task: args.task }) });
      return { structured: { entries }, text: entries.length === 0 ? "no memory entries" : entries.map(formatEntry).join("\n\n") };
    }));
}

export function registerGovernanceTools(server: McpServer, run: ToolRunner): void {
  registerApproval(server, run);
  registerGate(server, run);
  registerWriteMemory(server, run);
  registerReadMemory(server, run);
}
