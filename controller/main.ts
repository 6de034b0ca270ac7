import { CommanderError } from "commander";
import { buildProgram } from "./cli/program.js";
import { GafferError, InternalError } from "./errors.js";

/**
 * Composition root: builds the CLI and maps every failure to one line and an
 * exit code (0 ok, 1 refused or failed, 2 usage). A stack trace is shown only
 * for an unexpected error, and only with GAFFER_DEBUG=1.
 */
async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: "user" });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (error) {
    return reportError(error, program.helpInformation());
  }
}

function reportError(error: unknown, usage: string): number {
  if (error instanceof CommanderError) {
    if (error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.code === "commander.help") return 0;
    process.stderr.write(usage.endsWith("\n") ? "" : "\n");
    return 2;
  }
  if (error instanceof GafferError) {
    process.stderr.write(error.toLine() + "\n");
    return error.exitCode;
  }
  const internal = new InternalError(`unexpected failure: ${(error as Error)?.message ?? String(error)} (set GAFFER_DEBUG=1 for the stack, and please report it)`, { cause: error });
  process.stderr.write(internal.toLine() + "\n");
  if (process.env.GAFFER_DEBUG === "1") process.stderr.write(String((error as Error)?.stack) + "\n");
  return 1;
}

process.exitCode = await main(process.argv.slice(2));
