/** Group B, session lifecycle: create_session, send_command, read_session_output, close_session. */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { resolve } from "node:path";
import { z } from "zod";
import { closeSession, commandOutcomeError, createSession, readOutput, sendCommand } from "../app/sessions.js";
import { commandLine, sessionLine } from "../app/text.js";
import { commandShape, registerStrictTool, sessionArg, sessionShape, taskArg } from "./tool-args.js";
import type { ToolRunner } from "./tool-call.js";

function registerCreate(server: McpServer, run: ToolRunner): void {
  registerStrictTool(server, "create_session", {
    title: "Create an agent session",
    description: "Start an agent in tmux for a task, as `gaffer session create`: only for a task of the applied manifests whose stage was approved and is Running (POLICY_STAGE_NOT_APPROVED / POLICY_STAGE_NOT_RUNNING otherwise), only in the task's own worktree (PATH_ESCAPE for any other directory, NOT_FOUND when it has none). Reserves a capacity slot in one ledger transaction (CAPACITY_EXCEEDED with the limit that was hit) and waits for the agent's ready screen.",
    input: {
      task_id: taskArg,
      agent_type: z.string().min(1).describe("AgentPool agent name (e.g. claude, codex, scripted)"),
      role: z.string().min(1).optional().describe("capacity role (default: the task's role)"),
      model: z.string().min(1).optional().describe("model (default: the agent's first)"),
      worktree: z.string().min(1).optional().describe("directory to start in, relative to the control dir: must be the task's own worktree (the default)"),
    },
    output: { session: sessionShape },
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
  }, async ({ task_id, agent_type, role, model, worktree }) =>
    run(async (ctx) => {
      const session = await createSession(ctx, { task: task_id, agent: agent_type, ...(role === undefined ? {} : { role }), ...(model === undefined ? {} : { model }), ...(worktree === undefined ? {} : { worktree: resolve(ctx.dir, worktree) }) });
      return { structured: { session }, text: sessionLine(session) };
    }));
}

function registerSend(server: McpServer, run: ToolRunner): void {
  registerStrictTool(server, "send_command", {
    title: "Send a command to a session",
    description: "Send text to one session through its ledgered FIFO with confirmed delivery, as `gaffer session send`. Returns the command once it reached `wait` (acknowledged: the agent took it up; done: it finished). A stranded or failed command is an error (COMMAND_STRANDED, COMMAND_FAILED) that still carries the command. The agent acts on the text, so this may change anything the agent can.",
    input: {
      session_id: sessionArg,
      text: z.string().min(1).describe("the prompt or text to type into the agent"),
      wait: z.enum(["acknowledged", "done"]).optional().describe("return at acknowledged (default) or done"),
      timeout_ms: z.number().int().positive().optional().describe("give up waiting after this long (default 10 minutes); a command still queued then fails"),
    },
    output: { command: commandShape },
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false },
  }, async ({ session_id, text, wait, timeout_ms }) =>
    run(async (ctx) => {
      const command = await sendCommand(ctx, { sessionId: session_id, text, waitFor: wait ?? "acknowledged", ...(timeout_ms === undefined ? {} : { timeoutMs: timeout_ms }) });
      const error = commandOutcomeError(command);
      return { structured: { command }, text: commandLine(command), ...(error === null ? {} : { error }) };
    }));
}

function registerRead(server: McpServer, run: ToolRunner): void {
  registerStrictTool(server, "read_session_output", {
    title: "Read a session's output",
    description: "The session's latest screen lines and a status hint (idle, running, waiting, error, unknown) with the rule and text that decided it, as `gaffer session read`. Not read-only: what it observes is recorded in the ledger (status changes, a finished command, a crashed pane).",
    input: {
      session_id: sessionArg,
      lines: z.number().int().positive().optional().describe("last N lines (default 50)"),
      since_marker: z.string().min(1).optional().describe("only the output after the last line containing this text"),
    },
    output: {
      sessionId: z.string(), text: z.string().describe("the screen lines"), status: z.string().describe("idle, running, waiting, error or unknown"),
      rule: z.string().nullable().describe("the rule that decided"), matched: z.string().nullable(), screenHash: z.string(), state: z.string(), markerMissing: z.boolean(),
    },
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true },
  }, async ({ session_id, lines, since_marker }) =>
    run(async (ctx) => {
      const output = await readOutput(ctx, { sessionId: session_id, ...(lines === undefined ? {} : { lines }), ...(since_marker === undefined ? {} : { sinceMarker: since_marker }) });
      const hint = `--- status: ${output.status} (rule ${output.rule ?? "none"}${output.matched === null ? "" : `, matched ${JSON.stringify(output.matched)}`}, screen ${output.screenHash}, state ${output.state})`;
      return { structured: { ...output }, text: `${output.text}\n${hint}` };
    }));
}

function registerClose(server: McpServer, run: ToolRunner): void {
  registerStrictTool(server, "close_session", {
    title: "Close a session",
    description: "Kill the session's tmux session, mark it closed, fail what was still queued and release its capacity slot, as `gaffer session close`. Closing a closed session changes nothing and says so.",
    input: { session_id: sessionArg },
    output: { session: sessionShape, closed: z.boolean().describe("false when it was already closed"), capacityReleased: z.boolean(), message: z.string() },
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
  }, async ({ session_id }) =>
    run(async (ctx) => {
      const result = await closeSession(ctx, session_id);
      return { structured: { ...result }, text: result.message };
    }));
}

export function registerSessionTools(server: McpServer, run: ToolRunner): void {
  registerCreate(server, run);
  registerSend(server, run);
  registerRead(server, run);
  registerClose(server, run);
}
