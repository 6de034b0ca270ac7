/** Discovery after a reconnect: list_sessions, list_tasks, list_stages (read-only, from the ledger and the applied manifests). */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { listSessions, listStages, listTasks } from "../app/listing.js";
import { sessionLine } from "../app/text.js";
import { registerStrictTool, sessionShape, stageArg, taskArg } from "./tool-args.js";
import type { ToolRunner } from "./tool-call.js";

const READ_ONLY = { readOnlyHint: true, destructiveHint: false, idempotentHint: true } as const;
const phase = z.string().nullable().describe("the controller's recorded phase, null before it first saw it");

export function registerListingTools(server: McpServer, run: ToolRunner): void {
  registerStrictTool(server, "list_sessions", {
    title: "List sessions",
    description: "Sessions in the ledger (open ones; all: true adds closed and failed ones), optionally of one task: what a client started before it reconnected. Read-only.",
    input: { all: z.boolean().optional().describe("include closed and failed sessions"), task_id: taskArg.optional() },
    output: { sessions: z.array(sessionShape) },
    annotations: READ_ONLY,
  }, async ({ all, task_id }) =>
    run(async (ctx) => {
      const sessions = await listSessions(ctx, { all: all === true, ...(task_id === undefined ? {} : { task: task_id }) });
      return { structured: { sessions }, text: sessions.length === 0 ? "no sessions" : sessions.map(sessionLine).join("\n") };
    }));
  registerStrictTool(server, "list_tasks", {
    title: "List tasks",
    description: "The applied manifests' tasks, optionally of one stage, with their recorded phase and active worktree and branch. Read-only.",
    input: { stage: stageArg.optional() },
    output: { tasks: z.array(z.looseObject({ name: z.string(), stage: z.string(), role: z.string(), phase, worktree: z.string().nullable(), branch: z.string().nullable() })) },
    annotations: READ_ONLY,
  }, async ({ stage }) =>
    run(async (ctx) => {
      const tasks = await listTasks(ctx, stage === undefined ? {} : { stage });
      return { structured: { tasks }, text: tasks.map((t) => `${t.name}  stage ${t.stage}  role ${t.role}  ${t.phase ?? "-"}  ${t.worktree ?? "(no worktree)"}`).join("\n") || "no tasks" };
    }));
  registerStrictTool(server, "list_stages", {
    title: "List stages",
    description: "The Playbook's stages in order with their needs, tasks and recorded phase (work on a task goes on only while its stage is Running). Read-only.",
    input: {},
    output: { stages: z.array(z.looseObject({ name: z.string(), needs: z.array(z.string()), phase, tasks: z.array(z.string()) })) },
    annotations: READ_ONLY,
  }, async () =>
    run(async (ctx) => {
      const stages = await listStages(ctx);
      return { structured: { stages }, text: stages.map((s) => `${s.name}  ${s.phase ?? "-"}  needs ${s.needs.join(",") || "-"}  tasks ${s.tasks.join(",") || "-"}`).join("\n") || "no stages" };
    }));
}
