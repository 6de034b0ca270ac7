import { existsSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import { compactLedger, ledgerStats } from "../../state/ledger-maintenance.repository.js";
import { AlreadyExistsError, UsageError } from "../errors.js";
import { registerLedgerMigrate } from "./ledger-migrate.command.js";
import { withCommon, withControlDir, type CommonOptions } from "./context.js";
import { parseSince } from "./ledger.command.js";
import { formatTable, printJson, printLine } from "./output.js";

/** `gaffer ledger ...`: upkeep of the ledger itself (its size, its retention). */
export function registerLedgerMaintenance(program: Command): Command {
  const ledger = program.command("ledger").description("the ledger itself: size, retention and recovery");

  withCommon(ledger.command("stats").description("rows per table, file size and the span and busiest actions of the events")).action(async (options: CommonOptions) => {
    const stats = await withControlDir(options, async (ctx) => ledgerStats(await ctx.openLedger(), (await ctx.ledgerTarget()).display));
    if (options.json === true) return printJson(stats);
    printLine(`${stats.file}: ${(stats.bytes / 1_048_576).toFixed(1)} MiB, ${stats.events.count} events${stats.events.oldest === null ? "" : ` from ${stats.events.oldest} to ${stats.events.newest}`}`);
    printLine();
    printLine(formatTable(Object.entries(stats.tables), [["TABLE", ([name]) => name], ["ROWS", ([, n]) => String(n)]]));
    printLine();
    printLine(formatTable(stats.events.topActions, [["ACTION", (a) => a.action], ["EVENTS", (a) => String(a.count)]]));
  });

  withCommon(ledger.command("compact").description("delete events older than a date (approvals, commits and merges are kept), after a full archived copy"))
    .requiredOption("--before <when>", "delete events older than this: a duration ago (90d, 12h) or an ISO time")
    .option("--archive <file>", "where the full copy goes (default .gaffer/archive/ledger-<time>.sqlite)")
    .action(async (options: CommonOptions & { before: string; archive?: string }) => {
      const before = parseSince(options.before);
      const result = await withControlDir(options, async (ctx) => {
        const archive = resolve(options.archive ?? join(ctx.dir, ".gaffer", "archive", `ledger-${new Date().toISOString().replace(/[:.]/g, "-")}.sqlite`));
        if (archive === resolve(ctx.ledgerFile)) throw new UsageError("--archive must not be the ledger itself; name a new file");
        if (existsSync(archive)) throw new AlreadyExistsError(`${archive} already exists; name a new --archive file (an archive is never overwritten)`);
        mkdirSync(dirname(archive), { recursive: true });
        return compactLedger(await ctx.openLedger(), { before, archive, actor: ctx.actor });
      });
      if (options.json === true) return printJson(result);
      printLine(`archived the whole ledger to ${result.archive}`);
      printLine(`deleted ${result.deleted} events older than ${result.before}; kept ${result.kept} approval, commit and merge events; ${result.remaining} events remain`);
    });
  registerLedgerMigrate(ledger);
  return ledger;
}
