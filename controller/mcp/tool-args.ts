/**
 * Input and output shapes shared by several tools (zod, with the descriptions
 * clients show), and `registerStrictTool`: every tool takes a strict object
 * (unknown arguments are refused, `additionalProperties: false`) and
 * declares an `outputSchema` for its structured result.
 */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult, ToolAnnotations } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";

export const stageArg = z.string().min(1).describe("Playbook stage name (e.g. build)");
export const taskArg = z.string().min(1).describe("Task name (metadata.name of a Task manifest)");
export const sessionArg = z.string().min(1).describe("explicit session id (from create_session); there is no default session");

/** A ledger session as tools return it (more fields may follow). */
export const sessionShape = z.looseObject({
  id: z.string().describe("session id"),
  task: z.string().nullable().describe("task the session works on"),
  agent: z.string().describe("AgentPool agent"),
  state: z.string().describe("session state (Idle, Running, Waiting, Closed, ...)"),
  worktree: z.string().describe("the directory the agent works in"),
}).describe("a session");

/** A ledger command as tools return it. */
export const commandShape = z.looseObject({
  sessionId: z.string(), seq: z.number(), state: z.string().describe("issued, typed, submitted, acknowledged, done, failed or stranded"),
}).describe("a command");

/** A merge row as tools return it. */
export const mergeShape = z.looseObject({
  task: z.string(), branch: z.string(), target: z.string(), state: z.string().describe("queued, running, merged, conflict, refused or failed"), mergeSha: z.string().nullable().optional(),
}).describe("a merge");

/** A loose object: the tool's structured result, documented by its description. */
export const anyObject = (description: string) => z.looseObject({}).describe(description);

interface StrictTool<Shape extends z.ZodRawShape> {
  readonly title: string;
  readonly description: string;
  readonly input: Shape;
  readonly output: z.ZodRawShape;
  readonly annotations: ToolAnnotations;
}

/** Registers a tool whose input is a strict object and whose structured output has a schema. */
export function registerStrictTool<Shape extends z.ZodRawShape>(server: McpServer, name: string, tool: StrictTool<Shape>, handler: (args: z.infer<z.ZodObject<Shape>>) => Promise<CallToolResult>): void {
  const input = z.strictObject(tool.input);
  const output = z.looseObject(tool.output);
  server.registerTool(name, { title: tool.title, description: tool.description, inputSchema: input, outputSchema: output, annotations: { openWorldHint: false, ...tool.annotations } }, ((args: z.infer<z.ZodObject<Shape>>) => handler(args)) as never);
}
