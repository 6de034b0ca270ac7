import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { NotFoundError, userMistake } from "../errors.js";
import { renderReportHtml } from "../report/report-html.js";
import { buildReport, formatReport, listReportStages, writeReportJson, type ReportOptions as BuildOptions } from "../report/report.js";
import type { PricingTable } from "../report/report-tokens.js";
import { allAgents } from "../core/project-config.js";
import { withCommon, withControlDir, type CommonOptions, type ControlDir } from "./context.js";
import { printJson, printLine } from "./output.js";
import { observeSessionsOnce } from "../app/session-observation.js";

interface ReportOptions extends CommonOptions {
  readonly stage?: string;
  readonly html?: string;
}

/** The project's name from its manifests; null when they cannot be read (the report only needs the ledger). */
async function projectName(ctx: ControlDir): Promise<string | null> {
  try {
    return (await ctx.config()).name;
  } catch {
    return null;
  }
}

/** Prices per agent and model from the AgentPools; none when the manifests cannot be read. */
async function pricingOf(ctx: ControlDir): Promise<PricingTable> {
  try {
    return Object.fromEntries(allAgents(await ctx.loadManifests()).filter((a) => a.pricing !== undefined).map((a) => [a.name, a.pricing!]));
  } catch {
    return {};
  }
}

export function registerReport(program: Command): void {
  withCommon(program.command("report").description("time, utilization and bottlenecks from the ledger (text, --json, or an HTML timeline)"))
    .option("--stage <name>", "only this stage, its tasks and sessions")
    .option("--html <file>", "write a self-contained HTML report (timeline and tables) to FILE and print its path")
    .action(async (options: ReportOptions) => {
      const json = options.json === true && options.html === undefined;
      const report = await withControlDir(options, async (ctx) => {
        const db = await ctx.openLedger();
        if (options.stage !== undefined) {
          const stages = await listReportStages(db);
          if (!stages.includes(options.stage)) throw new NotFoundError(`stage ${options.stage} is not in the ledger (known: ${stages.join(", ") || "none"})`);
        }
        const project = await projectName(ctx);
        await observeSessionsOnce(ctx);
        const build: BuildOptions = { pricing: await pricingOf(ctx), ...(options.stage === undefined ? {} : { stage: options.stage }), ...(project === null ? {} : { project }) };
        // Each session's row is written as it is read: a million-event ledger's report is ~12 MB of JSON, never held whole.
        if (json) return writeReportJson(db, build, process.stdout);
        return buildReport(db, build);
      });
      if (report === undefined) return;
      if (options.html !== undefined) {
        const file = resolve(options.html);
        try {
          writeFileSync(file, renderReportHtml(report));
        } catch (error) {
          throw userMistake(error, "write the HTML report to") ?? error;
        }
        if (options.json === true) printJson({ html: file });
        else printLine(file);
        return;
      }
      printLine(formatReport(report));
    });
}
