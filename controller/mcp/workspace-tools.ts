/** Group C, workspace / git: create_worktree, commit_changes, merge_worktree, resolve_merge_conflict. */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { commitChanges, createWorktrees, mergeTask, resolveConflict } from "../app/workspace.js";
import { anyObject, mergeShape, registerStrictTool, taskArg } from "./tool-args.js";
import type { ToolRunner } from "./tool-call.js";

const STAGE_RULE = "Only for a task of the applied manifests whose stage was approved and is Running (POLICY_STAGE_NOT_APPROVED / POLICY_STAGE_NOT_RUNNING otherwise; no override from MCP).";

function registerWorktree(server: McpServer, run: ToolRunner): void {
  registerStrictTool(server, "create_worktree", {
    title: "Create a task's worktree",
    description: `Create (or adopt) the task's git worktree on its own branch from the integration branch, under Project.worktreeRoot, as \`gaffer worktree create --task\`. ${STAGE_RULE} Refuses protected or invalid branch names (POLICY_*).`,
    input: { task_id: taskArg },
    output: { task: z.string(), action: z.string().describe("created, adopted or unchanged"), worktree: anyObject("the worktree: path, branch, base") },
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true },
  }, async ({ task_id }) =>
    run(async (ctx) => {
      const [outcome] = await createWorktrees(ctx, { tasks: [task_id] });
      return { structured: { ...outcome! }, text: `${outcome!.action} worktree of ${outcome!.task}: ${outcome!.worktree.branch} at ${outcome!.worktree.path}` };
    }));
}

function registerCommit(server: McpServer, run: ToolRunner): void {
  registerStrictTool(server, "commit_changes", {
    title: "Commit a task's changes",
    description: `Commit everything changed in the task's own worktree after the guardrails (policy.commitFormat, secrets denylist, protected branches, the control repo's manifests/, status/ and memory/: POLICY_PROTECTED_PATH), as \`gaffer commit\`. ${STAGE_RULE} A commit for a session is authored by the agent identity (policy.agentAuthor) with a Gaffer-Session trailer. Nothing to commit is not an error (noop: true).`,
    input: {
      task_id: taskArg,
      message: z.string().min(1).describe("commit message, in the Project's policy.commitFormat (e.g. `feat(task): what`)"),
      session_id: z.string().min(1).optional().describe("session that made the change (Gaffer-Session trailer, agent author)"),
    },
    output: { task: z.string(), branch: z.string(), sha: z.string().nullable(), noop: z.boolean(), files: z.array(anyObject("a changed file")), summary: anyObject("added, modified, deleted, insertions, deletions") },
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
  }, async ({ task_id, message, session_id }) =>
    run(async (ctx) => {
      const result = await commitChanges(ctx, { task: task_id, message, session: session_id ?? null });
      const s = result.summary;
      const text = result.noop ? `nothing to commit in the worktree of ${result.task}` : `committed ${result.sha!.slice(0, 12)} on ${result.branch}: ${s.added} added, ${s.modified} modified, ${s.deleted} deleted, +${s.insertions} -${s.deletions}`;
      return { structured: { ...result }, text };
    }));
}

function registerMerge(server: McpServer, run: ToolRunner): void {
  registerStrictTool(server, "merge_worktree", {
    title: "Merge a task's branch",
    description: `Queue the task's branch and land it on the integration branch once its gate passes on the exact head, as \`gaffer merge\`. ${STAGE_RULE} A conflict is MERGE_CONFLICT (then resolve it in the worktree and call resolve_merge_conflict); a failed or missing gate is POLICY_GATE_REQUIRED; a change to the control repo's manifests/, status/ or memory/ is POLICY_PROTECTED_PATH. After the merge the worktree may be removed (policy.worktreeRetention).`,
    input: { task_id: taskArg },
    output: { merge: mergeShape },
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false },
  }, async ({ task_id }) =>
    run(async (ctx) => {
      const merge = await mergeTask(ctx, { task: task_id });
      return { structured: { merge }, text: `merged ${merge.task} (${merge.branch}) into ${merge.target} at ${merge.mergeSha!.slice(0, 12)}` };
    }));
}

function registerResolve(server: McpServer, run: ToolRunner): void {
  registerStrictTool(server, "resolve_merge_conflict", {
    title: "Finish a merge conflict",
    description: `After the conflict was resolved and committed in the task's worktree: verify no conflict markers and nothing uncommitted, run the gate, and re-queue the merge, as \`gaffer resolve\`. ${STAGE_RULE} Not resolved yet is MERGE_CONFLICT with what is left.`,
    input: { task_id: taskArg },
    output: { outcome: anyObject("the resolve round: round, resolved, phase, reason"), merge: mergeShape },
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false },
  }, async ({ task_id }) =>
    run(async (ctx) => {
      const result = await resolveConflict(ctx, { task: task_id });
      return { structured: { ...result }, text: `resolved ${task_id} (round ${result.outcome.round}); merged into ${result.merge.target} at ${result.merge.mergeSha!.slice(0, 12)}` };
    }));
}

export function registerWorkspaceTools(server: McpServer, run: ToolRunner): void {
  registerWorktree(server, run);
  registerCommit(server, run);
  registerMerge(server, run);
  registerResolve(server, run);
}
