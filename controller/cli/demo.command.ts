import type { Command } from "commander";
import { runDemo } from "../demo/run-demo.js";
import { buildReport, formatReport } from "../report/report.js";
import { openLedger } from "../../state/ledger.js";
import { join } from "node:path";
import { gafferInvocation } from "./invocation.js";
import { printJson, printLine } from "./output.js";
import { UsageError } from "../errors.js";

interface DemoCommandOptions {
  readonly keep?: string;
  readonly json?: boolean;
  readonly timeout?: string;
}

/** `--timeout SECONDS`: a whole number of seconds, at least 10. */
function timeoutMs(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[0-9]+$/.test(text) || Number(text) < 10) throw new UsageError(`--timeout takes whole seconds, at least 10 (got ${JSON.stringify(text)}); the default is 120`);
  return Number(text) * 1000;
}

export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description("run plan -> build -> test -> merge with the scripted agent in a throwaway repo (needs Node, git, tmux)")
    .option("--keep <dir>", "put the demo's repos here (default: a new temp dir)")
    .option("--json", "print the final report as JSON")
    .option("--timeout <seconds>", "give up when the demo has not finished after this long (default 120; a busy machine may need more)")
    .action(async (options: DemoCommandOptions) => {
      const out = options.json === true ? (line: string) => process.stderr.write(line + "\n") : printLine;
      const limit = timeoutMs(options.timeout);
      const result = await runDemo({ ...(options.keep === undefined ? {} : { keep: options.keep }), ...(limit === undefined ? {} : { timeoutMs: limit }), out });
      const db = await openLedger(join(result.control, ".gaffer", "ledger.sqlite"));
      const report = await buildReport(db).finally(() => db.destroy());
      if (options.json === true) {
        printJson({ ...result, report });
        return;
      }
      printLine("");
      printLine(formatReport(report));
      printLine("");
      printLine(`demo finished in ${(result.elapsedMs / 1000).toFixed(1)} s. Everything is left for you to inspect:`);
      printLine(`  control repo  ${result.control}`);
      printLine(`  target repo   ${result.target}   (git -C ${result.target} log --oneline --graph)`);
      const gaffer = gafferInvocation();
      printLine(`  ${gaffer} status --dir ${result.control}`);
      printLine(`  ${gaffer} log --dir ${result.control}`);
      printLine(`  ${gaffer} report --dir ${result.control} --html report.html`);
      printLine(`  ${gaffer} memory read --dir ${result.control}`);
      printLine(`  (every agent session closed when its work was merged; the demo stopped its tmux server, -L ${result.socket})`);
    });
}
