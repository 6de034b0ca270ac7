import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { onTestFinished } from "vitest";
import { GAFFER_BIN } from "../helpers/cli.js";

export interface McpTestClient {
  readonly client: Client;
  /** Calls a tool and returns its result (isError results included, never thrown). */
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  /** What the server wrote to stderr so far. */
  stderr(): string;
}

/** The SDK client over stdio, spawning the real `node controller/gaffer.js mcp --dir DIR`; closed when the test finishes. */
export async function mcpClient(dir: string): Promise<McpTestClient> {
  const env = Object.fromEntries(Object.entries({ ...process.env, TMUX: "" }).filter((e): e is [string, string] => e[1] !== undefined));
  const transport = new StdioClientTransport({ command: process.execPath, args: [GAFFER_BIN, "mcp", "--dir", dir], env, stderr: "pipe" });
  let errText = "";
  transport.stderr?.on("data", (chunk: Buffer) => (errText += chunk.toString("utf8")));
  const client = new Client({ name: "gaffer-test", version: "1.0.0" });
  await client.connect(transport);
  onTestFinished(() => client.close());
  return {
    client,
    call: async (name, args = {}) => (await client.callTool({ name, arguments: args }, undefined, { timeout: 60_000 })) as CallToolResult,
    stderr: () => errText,
  };
}
