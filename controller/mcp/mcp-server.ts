/**
 * `gaffer mcp`: the brief's tool contract (groups A-D) as an MCP server. Each
 * tool is a thin adapter over the application layer (controller/app/): it
 * parses strict arguments, calls the verb, and returns the result, on a fresh
 * control-dir context per call with entry point and actor `mcp` (which can
 * neither approve nor override).
 */
import { readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { NotFoundError } from "../errors.js";
import { packagePath } from "../paths.js";
import { registerGovernanceTools } from "./governance-tools.js";
import { registerListingTools } from "./listing-tools.js";
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
  "list_sessions", "list_tasks", "list_stages",
] as const;

const INSTRUCTIONS = [
  "gaffer drives teams of coding agents in tmux sessions and git worktrees from a control dir's manifests.",
  "Plan with plan_stage_allocation / propose_stage_execution; request_stage_approval writes the proposal, and only a person's committed `gaffer approve STAGE` approves it.",
  "Work on a task (sessions, commits, merges) is refused until a person approved its stage and the controller runs it; sessions start only in their task's own worktree.",
  "Sessions are addressed by explicit id (create_session returns it; list_sessions finds them after a reconnect). Errors read `error: CODE: message`, as in the CLI, with the code in structuredContent.error.code.",
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
  registerListingTools(server, run);
  return server;
}

/** Serves on stdin/stdout until the client closes the stream. stdout is the protocol: nothing else may write to it. */
/** Refuses a control dir that is not there (or has no manifests/) before anything is served. */
export function checkControlDir(dir: string): void {
  const isDir = (path: string): boolean => {
    try {
      return statSync(path).isDirectory();
    } catch {
      return false;
    }
  };
  const path = resolve(dir);
  if (!isDir(path)) throw new NotFoundError(`control dir ${path} does not exist or is not a directory; pass --dir with an existing control dir (\`gaffer init --dir DIR\` creates one)`, { details: { dir: path } });
  if (!isDir(resolve(path, "manifests"))) throw new NotFoundError(`no manifests/ directory in ${path}; run \`gaffer init --dir ${dir}\` or pass --dir with the control dir`, { details: { dir: path } });
}

export async function serveStdio(dir: string): Promise<void> {
  checkControlDir(dir);
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
