import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Command } from "commander";
import { NotFoundError, UsageError } from "../errors.js";
import { listEvents } from "../../state/events.repository.js";
import { getSession } from "../../state/sessions.repository.js";
import { statusFilePath } from "../status/status-store.js";
import { formatEvent } from "./ledger.command.js";
import { withCommon, withControlDir, type CommonOptions } from "./context.js";
import { printJson, printLine } from "./output.js";

const KINDS = ["stage", "task", "session"] as const;

/** `gaffer describe stage|task|session NAME`: its status (file or record) and its recent events. */
export function registerDescribe(program: Command): void {
  withCommon(program.command("describe").argument("<kind>", KINDS.join("|")).argument("<name>", "stage, task or session id").description("one object in detail: its status and its last events"))
    .option("--events <n>", "how many recent events", "20")
    .action(async (kind: string, name: string, options: CommonOptions & { events: string }) => {
      if (!(KINDS as readonly string[]).includes(kind)) throw new UsageError(`describe takes ${KINDS.join(", ")} (got "${kind}")`);
      const limit = Number(options.events);
      if (!Number.isInteger(limit) || limit <= 0) throw new UsageError(`--events must be a positive integer (got ${options.events})`);
      const result = await withControlDir(options, async (ctx) => {
        const db = await ctx.openLedger();
        let status: unknown;
        if (kind === "session") {
          status = await getSession(db, name);
          if (status === undefined) throw new NotFoundError(`no session "${name}" in the ledger; \`gaffer session list --all\` lists them`);
        } else {
          const file = statusFilePath(kind as "stage" | "task", name);
          status = await readFile(join(ctx.dir, file), "utf8").catch(() => {
            throw new NotFoundError(`no ${file} yet: the controller writes it once the ${kind} is in the manifests and \`gaffer up\` has run`);
          });
        }
        return { status, events: await listEvents(db, { subject: `${kind}/${name}`, limit }) };
      });
      if (options.json === true) return printJson(result);
      printLine(typeof result.status === "string" ? result.status.trimEnd() : JSON.stringify(result.status, null, 2));
      printLine("");
      printLine(`last ${result.events.length} event(s) of ${kind}/${name}:`);
      for (const event of result.events) printLine(`  ${formatEvent(event)}`);
    });
}
