import type { Command } from "commander";
import { serveStdio } from "../mcp/mcp-server.js";

/** `gaffer mcp [--dir D]`: the tool contract as an MCP server on stdio. */
export function registerMcp(program: Command): void {
  program
    .command("mcp")
    .description("serve the tool contract (plan_stage_allocation ... read_project_memory) as an MCP server on stdio")
    .option("--dir <path>", "control dir", ".")
    .action(async (options: { dir: string }) => {
      await serveStdio(options.dir);
    });
}
