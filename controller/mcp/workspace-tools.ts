/** Group C, workspace / git: create_worktree, commit_changes, merge_worktree, resolve_merge_conflict. */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { commitChanges } from "../workspace/commit.js";
import { createWorktree } from "../workspace/worktrees.js";
import { mergeTask, resolveByHand, workspaceContext } from "../cli/actions.js";
import { taskArg } from "./tool-args.js";
import type { ToolRunner } from "./tool-call.js";

function registerWorktree(server: McpServer, run: ToolRunner): void {
  server.registerTool(
    "create_worktree",
    {
      title: "Create a task's worktree",
      description: "Create (or adopt) the task's git worktree on its own branch from the integration branch, under Project.worktreeRoot, as `gaffer worktree create --task`. Refuses protected or invalid branch names (POLICY_*).",
      inputSchema: { task_id: taskArg },
      annotations: { idempotentHint: true },
    },
    async ({ task_id }) =>
      run(async (ctx) => {
        const outcome = await createWorktree(await workspaceContext(ctx), task_id);
        return { structured: { ...outcome }, text: `${outcome.action} worktree of ${outcome.task}: ${outcome.worktree.branch} at ${outcome.worktree.path}` };
      }),
  );
}

function registerCommit(server: McpServer, run: ToolRunner): void {
  server.registerTool(
    "commit_changes",
    {
      title: "Commit a task's changes",
      description: "Commit everything changed in the task's worktree after the guardrails (policy.commitFormat, secrets denylist, protected branches), as `gaffer commit`. Nothing to commit is not an error (noop: true).",
      inputSchema: {
        task_id: taskArg,
        message: z.string().min(1).describe("commit message, in the Project's policy.commitFormat (e.g. `feat(task): what`)"),
        session_id: z.string().min(1).optional().describe("session that made the change (recorded as a Gaffer-Session trailer)"),
      },
    },
    async ({ task_id, message, session_id }) =>
      run(async (ctx) => {
        const result = await commitChanges(await workspaceContext(ctx), { task: task_id, message, session: session_id ?? null });
        const s = result.summary;
        const text = result.noop ? `nothing to commit in the worktree of ${result.task}` : `committed ${result.sha!.slice(0, 12)} on ${result.branch}: ${s.added} added, ${s.modified} modified, ${s.deleted} deleted, +${s.insertions} -${s.deletions}`;
        return { structured: { ...result }, text };
      }),
  );
}

function registerMerge(server: McpServer, run: ToolRunner): void {
  server.registerTool(
    "merge_worktree",
    {
      title: "Merge a task's branch",
      description: "Queue the task's branch and land it on the integration branch once its gate passes, as `gaffer merge`. A conflict is MERGE_CONFLICT (then resolve it in the worktree and call resolve_merge_conflict); a failed gate is POLICY_GATE_REQUIRED.",
      inputSchema: { task_id: taskArg },
    },
    async ({ task_id }) =>
      run(async (ctx) => {
        const merge = await mergeTask(ctx, task_id);
        return { structured: { merge }, text: `merged ${merge.task} (${merge.branch}) into ${merge.target} at ${merge.mergeSha!.slice(0, 12)}` };
      }),
  );
}

function registerResolve(server: McpServer, run: ToolRunner): void {
  server.registerTool(
    "resolve_merge_conflict",
    {
      title: "Finish a merge conflict",
      description: "After the conflict was resolved and committed in the task's worktree: verify no conflict markers and nothing uncommitted, run the gate, and re-queue the merge, as `gaffer resolve`. Not resolved yet is MERGE_CONFLICT with what is left.",
      inputSchema: { task_id: taskArg },
    },
    async ({ task_id }) =>
      run(async (ctx) => {
        const result = await resolveByHand(ctx, task_id);
        return { structured: { ...result }, text: `resolved ${task_id} (round ${result.outcome.round}); merged into ${result.merge.target} at ${result.merge.mergeSha!.slice(0, 12)}` };
      }),
  );
}

export function registerWorkspaceTools(server: McpServer, run: ToolRunner): void {
  registerWorktree(server, run);
  registerCommit(server, run);
  registerMerge(server, run);
  registerResolve(server, run);
}
