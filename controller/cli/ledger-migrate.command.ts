import { existsSync } from "node:fs";
import type { Command } from "commander";
import { copyLedger, type CopyResult } from "../../state/ledger-copy.js";
import { openLedger, openLedgerAt, type Ledger } from "../../state/ledger.js";
import { ledgerUrlProblem, redactUrl } from "../../state/ledger-target.js";
import { readControllerLease } from "../../state/controller-lease.repository.js";
import { ControllerLockedError, LedgerUrlInvalidError, NotFoundError } from "../errors.js";
import { withCommon, withControlDir, type CommonOptions, type ControlDir } from "./context.js";
import { formatTable, printJson, printLine } from "./output.js";

interface MigrateOptions extends CommonOptions {
  readonly to: string;
  readonly batch?: string;
}

/** `gaffer ledger migrate --to URL`: copies the control dir's SQLite ledger into an empty PostgreSQL database. */
export function registerLedgerMigrate(ledger: Command): void {
  withCommon(ledger.command("migrate").description("copy this control dir's SQLite ledger into an empty PostgreSQL database, verifying row counts"))
    .requiredOption("--to <url>", "the PostgreSQL ledger, postgres://USER@HOST:PORT/DATABASE (the password from PGPASSWORD or ~/.pgpass)")
    .option("--batch <rows>", "rows per batch (default 500)")
    .action(async (options: MigrateOptions) => {
      const problem = ledgerUrlProblem(options.to);
      if (problem !== null) throw new LedgerUrlInvalidError(`--to ${JSON.stringify(redactUrl(options.to))} ${problem}`);
      const batchSize = options.batch === undefined ? 500 : Number(options.batch);
      if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 5000) throw new LedgerUrlInvalidError(`--batch ${JSON.stringify(options.batch)} is not a whole number from 1 to 5000`);
      const result = await withControlDir(options, (ctx) => migrate(ctx, options.to, batchSize));
      if (options.json === true) return printJson({ to: redactUrl(options.to), ...result });
      printLine(`copied ${result.rows} rows into ${redactUrl(options.to)} in ${(result.ms / 1000).toFixed(1)} s; row counts verified:`);
      printLine(formatTable(result.tables, [["TABLE", (t) => t.name], ["SOURCE", (t) => String(t.source)], ["TARGET", (t) => String(t.target)]]));
      printLine(`next: set GAFFER_LEDGER_URL (or spec.ledger.url without the password) to ${redactUrl(options.to)}, then start the controller again`);
    });
}

async function migrate(ctx: ControlDir, url: string, batchSize: number): Promise<CopyResult> {
  if (!existsSync(ctx.ledgerFile)) throw new NotFoundError(`${ctx.ledgerFile} does not exist: there is no SQLite ledger here to migrate (check --dir)`);
  const source = await openLedger(ctx.ledgerFile);
  let target: Ledger | undefined;
  try {
    await refuseLiveController(source);
    target = await openLedgerAt({ kind: "postgres", url, display: redactUrl(url) });
    return await copyLedger(source, target, { batchSize, onProgress: (p) => process.stderr.write(`migrate: ${p.table} ${p.copied}/${p.total}\n`) });
  } finally {
    await target?.destroy();
    await source.destroy();
  }
}

/** A controller still writing the source would leave its last writes behind: it must be stopped first. */
async function refuseLiveController(source: Ledger): Promise<void> {
  const lease = await readControllerLease(source);
  if (lease === null || Date.parse(lease.expiresAt) <= Date.now()) return;
  throw new ControllerLockedError(`a controller (pid ${lease.pid} on ${lease.host}) still runs on this ledger (lease expires ${lease.expiresAt}); stop it (Ctrl-C or kill ${lease.pid}) so no write is left behind, then run migrate again`, { details: { ...lease } });
}
