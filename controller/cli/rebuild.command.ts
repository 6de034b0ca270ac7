import { join } from "node:path";
import type { Command } from "commander";
import { GitCli } from "../adapters/git.js";
import { acquireControllerLease } from "../reconciler/controller-lease.js";
import { LEDGER_FILE } from "../../state/ledger.js";
import { rebuildFromWorld, type RebuildReport } from "../reconciler/world-memory.js";
import { withCommon, withControlDir, type CommonOptions } from "./context.js";
import { printJson, printLine } from "./output.js";

/** The `ledger` command group, shared by every `gaffer ledger ...` verb (created by whichever registers first). */
export function ledgerGroup(program: Command): Command {
  return program.commands.find((c) => c.name() === "ledger") ?? program.command("ledger").description("the ledger itself: rebuild it from git and the status files");
}

/** The report as lines a person reads. */
export function formatRebuildReport(report: RebuildReport): string[] {
  const lines = [report.ledgerWasEmpty ? "the ledger was empty: rebuilt from git and the status files" : "the ledger was checked against git and the status files"];
  for (const m of report.merged) lines.push(`merged   task ${m.task} (stage ${m.stage}): on ${report.integrationBranch} at ${m.sha.slice(0, 12)} (${m.how}); recorded Merged, it will not run again`);
  for (const task of report.alreadyMerged) lines.push(`merged   task ${task}: already recorded`);
  for (const w of report.worktrees) lines.push(`worktree task ${w.task}: ${w.path} on ${w.branch}${w.head === null ? "" : ` at ${w.head.slice(0, 12)}`} (adopted when the task runs)`);
  for (const a of report.approvals) lines.push(`approval stage ${a.stage}: ${a.reason}${a.approvers.length === 0 ? "" : ` by ${a.approvers.join(", ")}`}: ${a.message}`);
  lines.push(report.toRun.length === 0 ? "to run: nothing" : `to run: ${report.toRun.join(", ")} (no landed work found; \`gaffer up\` runs them)`);
  return lines;
}

export function registerRebuild(program: Command): void {
  withCommon(ledgerGroup(program).command("rebuild").description("rebuild the ledger's memory from git (merged tasks by their Gaffer-Task trailer, worktrees) and the committed status files (approvals); safe to repeat"))
    .action(async (options: CommonOptions) => {
      const report = await withControlDir(options, async (ctx) => {
        // One writer: a running controller would race the rebuild.
        const db = await ctx.openLedger();
        const lease = await acquireControllerLease(db, { ledgerFile: join(ctx.dir, LEDGER_FILE), actor: ctx.actor });
        try {
          return await rebuildFromWorld({ dir: ctx.dir, db, git: new GitCli(), set: await ctx.loadManifests(), actor: ctx.actor });
        } finally {
          await lease.release();
        }
      });
      if (options.json === true) printJson(report);
      else for (const line of formatRebuildReport(report)) printLine(line);
    });
}
