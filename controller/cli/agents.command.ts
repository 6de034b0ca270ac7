import { resolve } from "node:path";
import type { Command } from "commander";
import { trustWorktreeRoot, type TrustChange } from "../trust/agent-trust.js";
import { withCommon, withControlDir, type CommonOptions } from "./context.js";
import { formatTable, printJson, printLine } from "./output.js";

interface TrustOptions extends CommonOptions {
  readonly dryRun?: boolean;
}

function describe(changes: readonly TrustChange[], dryRun: boolean): string {
  const table = formatTable(changes, [
    ["AGENT", (c) => c.agent],
    ["FILE", (c) => c.file ?? "-"],
    ["ACTION", (c) => (c.action === "add" ? (dryRun ? "would add" : "added") : c.action)],
    ["WHAT", (c) => c.note],
  ]);
  const backups = changes.filter((c) => c.backup !== null).map((c) => `backup of ${c.file}: ${c.backup}`);
  return [`trust for gaffer's worktree root ${changes[0]?.folder ?? "-"}:`, table, ...backups, ...(dryRun ? ["(dry run: nothing written; run without --dry-run to record it)"] : [])].join("\n");
}

/** `gaffer agents trust`: one decision by a person, so agents do not ask about every new worktree. */
export function registerAgentsCommands(program: Command): void {
  const agents = program.command("agents").description("the AgentPool's agents");
  withCommon(agents.command("trust").description("record trust for gaffer's worktree root in each agent's own configuration (in its env.HOME), atomically, with a backup"))
    .option("--dry-run", "show what would change, write nothing")
    .action(async (options: TrustOptions) => {
      const dryRun = options.dryRun === true;
      const changes = await withControlDir(options, async (ctx) => trustWorktreeRoot(await ctx.agents(), resolve(ctx.dir, (await ctx.config()).worktreeRoot), !dryRun));
      if (options.json === true) printJson({ dryRun, changes });
      else printLine(describe(changes, dryRun));
    });
}
