/**
 * How every MCP tool call runs: a fresh ControlDir per call (manifests,
 * config, agents and limits reloaded, the ledger opened and closed), entry
 * point and actor `mcp`, and one result shape: `structuredContent` plus a
 * text summary, or `isError: true` with the CLI's line `error: CODE: message`
 * and the code in the structured content.
 */
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { ControlDir, type EntryPoint } from "../app/control-dir.js";
import { GafferError, InternalError } from "../errors.js";

/** The ledger actor of every MCP tool call. */
export const MCP_ACTOR = "mcp";

/** A control dir whose events are ledgered as the MCP server's, and which can never override or approve. */
export class McpControlDir extends ControlDir {
  override readonly actor = MCP_ACTOR;
  override readonly entry: EntryPoint = "mcp";
}

/** What a tool produced: the structured result and one summary for people. */
export interface ToolOutcome {
  /** The `structuredContent` of the result (an object, as MCP requires). */
  readonly structured: Record<string, unknown>;
  /** The text summary (the CLI's human output where there is one). */
  readonly text: string;
  /** A refusal that still carries a result (e.g. a stranded command): sent as an error with `structured` alongside. */
  readonly error?: GafferError;
}

/** Runs one tool on the server's control dir. */
export type ToolRunner = (fn: (ctx: ControlDir) => Promise<ToolOutcome>) => Promise<CallToolResult>;

/** A plain JSON copy (drops undefined, turns class instances into plain objects). */
function plain(value: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
}

/** The error result: the CLI's `error: CODE: message`, and `{error: {code, message, details}}` (plus any partial result). */
export function errorResult(error: unknown, partial: Record<string, unknown> = {}): CallToolResult {
  const known = error instanceof GafferError ? error : new InternalError(`unexpected failure: ${(error as Error)?.message ?? String(error)} (please report it)`, { cause: error });
  if (!(error instanceof GafferError)) process.stderr.write(`gaffer mcp: ${String((error as Error)?.stack ?? error)}\n`);
  return {
    isError: true,
    content: [{ type: "text", text: known.toLine() }],
    structuredContent: plain({ ...partial, error: { code: known.code, message: known.message, details: known.details } }),
  };
}

/** The success result. */
export function okResult(outcome: ToolOutcome): CallToolResult {
  if (outcome.error !== undefined) return errorResult(outcome.error, outcome.structured);
  return { content: [{ type: "text", text: outcome.text }], structuredContent: plain(outcome.structured) };
}

/** A runner for the control dir `dir`: each call gets its own ControlDir, closed afterwards. */
export function toolRunner(dir: string): ToolRunner {
  return async (fn) => {
    const ctx = new McpControlDir(dir);
    try {
      return okResult(await fn(ctx));
    } catch (error) {
      return errorResult(error);
    } finally {
      await ctx.close().catch(() => undefined);
    }
  };
}
