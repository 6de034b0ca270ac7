import type { Command } from "commander";
import { ControlDir } from "../app/control-dir.js";
import type { Override } from "../app/gatekeeper.js";

export { ControlDir } from "../app/control-dir.js";

/** Options every verb takes. */
export interface CommonOptions {
  readonly dir: string;
  readonly json?: boolean;
}

/** Adds `--dir` and `--json` to a command. */
export function withCommon(command: Command): Command {
  return command.option("--dir <path>", "control dir", ".").option("--json", "machine-readable output on stdout");
}

/** The `--override REASON` flag of the verbs that act on a task. */
export interface OverrideOptions {
  readonly override?: string;
}

/** Adds `--override REASON`: a person acts although the task's stage is not Running (recorded in the ledger; refused inside a session). */
export function withOverride(command: Command): Command {
  return command.option("--override <reason>", "act although the task's stage is not Running: a person's override, recorded in the ledger with REASON");
}

/** The override a verb's options carry, or null. */
export function overrideOf(options: OverrideOptions): Override | null {
  return options.override === undefined ? null : { reason: options.override };
}

/** Runs a verb with its control dir, closing the ledger afterwards. */
export async function withControlDir<T>(options: CommonOptions, fn: (ctx: ControlDir) => Promise<T>): Promise<T> {
  const ctx = new ControlDir(options.dir);
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}
