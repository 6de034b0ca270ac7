/**
 * `gaffer mcp`: the brief's tool contract (groups A-D) as an MCP server. Each
 * tool is a thin adapter over the functions the CLI and the controller use
 * (controller/cli/actions.ts, sessions/, workspace/, gates/, memory/), run on
 * a fresh control-dir context per call with actor `mcp`.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { packagePath } from "../paths.js";
import { registerGovernanceTools } from "./governance-tools.js";
import { registerPlanningTools } from "./planning-tools.js";
import { registerSessionTools } from "./session-tools.js";
import { toolRunner } from "./tool-call.js";
import { registerWorkspaceTools } from "./workspace-tools.js";

/** The tool names, in contract order (BRIEF.md "Suggested Tool Contract Groups"). */
export const MCP_TOOLS = [
  "plan_stage_allocation", "propose_stage_execution",
  "create_session", "send_command", "read_session_output", "close_session",
  "create_worktree", "commit_changes", "merge_worktree", "resolve_merge_conflict",
  "request_stage_approval", "run_quality_gate", "write_project_memory", "read_project_memory",
] as const;

const INSTRUCTIONS = [
  "gaffer drives teams of coding agents in tmux sessions and git worktrees from a control dir's manifests.",
  "Plan with plan_stage_allocation / propose_stage_execution; request_stage_approval writes the proposal, and only a person's committed `gaffer approve STAGE` approves it.",
  "Sessions are addressed by explicit id (create_session returns it). Errors read `error: CODE: message`, as in the CLI, with the code in structuredContent.error.code.",
].join(" ");

function version(): string {
  return (JSON.parse(readFileSync(packagePath("package.json"), "utf8")) as { version: string }).version;
}

/** The server for one control dir (not connected). */
export function buildMcpServer(dir: string): McpServer {
  const server = new McpServer({ name: "gaffer", version: version() }, { instructions: INSTRUCTIONS });
  const run = toolRunner(resolve(dir));
  registerPlanningTools(server, run);
  registerSessionTools(server, run);
  registerWorkspaceTools(server, run);
  registerGovernanceTools(server, run);
  return server;
}

/** Serves on stdin/stdout until the client closes the stream. stdout is the protocol: nothing else may write to it. */
export async function serveStdio(dir: string): Promise<void> {
  // Anything that would print to stdout (a stray console.log) goes to stderr instead.
  console.log = console.error;
  console.info = console.error;
  console.debug = console.error;
  const server = buildMcpServer(dir);
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((done) => {
    server.server.onclose = () => done();
    process.stdin.once("end", () => done());
  });
  await server.connect(transport);
  process.stderr.write(`gaffer mcp: serving ${MCP_TOOLS.length} tools for ${resolve(dir)} on stdio\n`);
  await closed;
  await server.close();
}
