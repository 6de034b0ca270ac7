import { CommanderError } from "commander";
import { buildProgram, buildProgramFor } from "./cli/program.js";
import { GafferError, InternalError, UsageError, userMistake } from "./errors.js";

/**
 * Composition root: builds the CLI and maps every failure to one line and an
 * exit code (0 ok, 1 refused or failed, 2 usage). A stack trace is shown only
 * for an unexpected error, and only with GAFFER_DEBUG=1. With `--json` the
 * failure is also `{"error": {code, message, details}}` on stdout.
 */
async function main(argv: readonly string[]): Promise<number> {
  endQuietlyOnClosedStdout();
  const json = wantsJson(argv);
  if (argv.length === 0) {
    process.stderr.write((await buildProgram()).helpInformation());
    return 2;
  }
  try {
    // Only the named command's module is loaded: start-up pays for what that command imports.
    const program = await buildProgramFor(argv);
    await program.parseAsync([...argv], { from: "user" });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (error) {
    return reportError(error, json);
  }
}

/** A reader piped into `head` closes stdout early: that is the reader's choice, not a failure. */
function endQuietlyOnClosedStdout(): void {
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE" || error.code === "ERR_STREAM_DESTROYED") process.exit(0);
    throw error;
  });
}

/** `--json` anywhere before a `--` separator. */
function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf("--");
  return (end === -1 ? argv : argv.slice(0, end)).includes("--json");
}

function reportError(error: unknown, json: boolean): number {
  if (error instanceof CommanderError) {
    if (error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.code === "commander.help") return 0;
    if (json) printJsonError(new UsageError(error.message.replace(/^error: /, "")));
    return 2;
  }
  const known = error instanceof GafferError ? error : userMistake(error);
  if (known !== null) {
    process.stderr.write(known.toLine() + "\n");
    if (json) printJsonError(known);
    return known.exitCode;
  }
  const internal = new InternalError(`unexpected failure: ${(error as Error)?.message ?? String(error)} (set GAFFER_DEBUG=1 for the stack, and please report it)`, { cause: error });
  process.stderr.write(internal.toLine() + "\n");
  if (json) printJsonError(internal);
  if (process.env.GAFFER_DEBUG === "1") process.stderr.write(String((error as Error)?.stack) + "\n");
  return 1;
}

function printJsonError(error: GafferError): void {
  process.stdout.write(JSON.stringify({ error: { code: error.code, message: error.message, details: error.details } }, null, 2) + "\n");
}

process.exitCode = await main(process.argv.slice(2));
