import type { Command } from "commander";
import { runHook } from "../hooks/run-hook.js";

/**
 * `gaffer hook AGENT EVENT [PAYLOAD] --session ID --dir CONTROL_DIR`: the
 * entry point an agent's hook calls (gaffer writes that configuration per
 * session). The installed `gaffer` runs it from a small bundle of its own
 * (controller/hooks/hook-main.ts); this definition serves `--help` and runs
 * without the bundle. Always exits 0; failures go to `.gaffer/hooks.log`.
 */
export function registerHook(program: Command): void {
  program
    .command("hook")
    .description("record an agent lifecycle event from its hook (called by the agent; payload on stdin or as last argument); always exits 0")
    .argument("<agent>", "agent profile that calls (claude, codex)")
    .argument("<event>", "the hook's event name (codex: notify)")
    .argument("[payload]", "the JSON payload (codex notify passes it as an argument; else stdin)")
    .requiredOption("--session <id>", "gaffer session id")
    .option("--dir <path>", "control dir", ".")
    .action(async (agent: string, event: string, payload: string | undefined, options: { session: string; dir: string }) => {
      await runHook({ agent, event, payload, sessionId: options.session, dir: options.dir });
      process.exitCode = 0;
    });
}
