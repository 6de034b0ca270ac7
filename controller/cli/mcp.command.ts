import type { Command } from "commander";

/** `gaffer mcp [--dir D]`: the tool contract as an MCP server on stdio. */
export function registerMcp(program: Command): void {
  program
    .command("mcp")
    .description("serve the tool contract (plan_stage_allocation ... read_project_memory) as an MCP server on stdio")
    .option("--dir <path>", "control dir", ".")
    .action(async (options: { dir: string }) => {
      // Loaded on use: the MCP SDK and its zod schemas cost every other command's start-up ~100 ms to evaluate.
      const { serveStdio } = await import("../mcp/mcp-server.js");
      await serveStdio(options.dir);
    });
}
