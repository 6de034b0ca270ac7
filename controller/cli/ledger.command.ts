import type { Command } from "commander";
import { UsageError } from "../errors.js";
import { listEvents, streamEvents, type LedgerEvent } from "../../state/events.repository.js";
import { LISTABLE, isListableKind, listRecords } from "../../state/listing.repository.js";
import { withCommon, withControlDir, type CommonOptions } from "./context.js";
import { formatTable, printJson, printLine } from "./output.js";

interface LogOptions extends CommonOptions {
  readonly since?: string;
  readonly subject?: string;
  readonly action?: string;
  readonly limit?: string;
  readonly after?: string;
}

/** `10m`, `2h`, `3d` ago, or an ISO time, as an ISO time. */
export function parseSince(value: string, now = Date.now()): string {
  const relative = /^(\d+)(s|m|h|d)$/.exec(value);
  if (relative !== null) {
    const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as "s" | "m" | "h" | "d"];
    return new Date(now - Number(relative[1]) * unit).toISOString();
  }
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw new UsageError(`--since takes a duration (30s, 10m, 2h, 1d) or an ISO time (got ${JSON.stringify(value)})`);
  return new Date(time).toISOString();
}

function parseLimit(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--limit must be a positive integer (got ${value})`);
  return n;
}

export function formatEvent(event: LedgerEvent): string {
  const payload = Object.keys(event.payload).length === 0 ? "" : " " + JSON.stringify(event.payload);
  return `${event.at}  ${event.actor}  ${event.action}  ${event.subject}${event.commitSha ? ` @${event.commitSha.slice(0, 12)}` : ""}${payload}`;
}

export function registerLedgerCommands(program: Command): void {
  withCommon(program.command("log").description("the audit trail: every mutating action, oldest first"))
    .option("--since <when>", "only events since a duration ago (10m, 2h) or an ISO time")
    .option("--subject <subject>", "only events about this subject (e.g. task/add-login, session/ID)")
    .option("--action <action>", "only events with this action (e.g. CapacityRefused)")
    .option("--limit <n>", "only the last N events")
    .option("--after <id>", "only events after this event id (page on from the last id you saw)")
    .action(async (options: LogOptions) => {
      const query = {
        ...(options.since === undefined ? {} : { since: parseSince(options.since) }),
        ...(options.subject === undefined ? {} : { subject: options.subject }),
        ...(options.action === undefined ? {} : { action: options.action }),
        ...(options.after === undefined ? {} : { afterId: parseLimit(options.after)! }),
      };
      await withControlDir(options, async (ctx) => {
        const db = await ctx.openLedger();
        if (options.limit !== undefined) {
          const events = await listEvents(db, { ...query, limit: parseLimit(options.limit)! });
          if (options.json === true) printJson(events);
          else for (const event of events) printLine(formatEvent(event));
          return;
        }
        // Unbounded: stream in pages so a million events never sit in memory at once.
        let first = true;
        if (options.json === true) process.stdout.write("[");
        for await (const event of streamEvents(db, query)) {
          if (options.json === true) process.stdout.write(`${first ? "\n" : ",\n"}${JSON.stringify(event)}`);
          else printLine(formatEvent(event));
          first = false;
        }
        if (options.json === true) process.stdout.write(first ? "]\n" : "\n]\n");
      });
    });

  withCommon(program.command("get").argument("<kind>", Object.keys(LISTABLE).join("|")).description("list ledger records of one kind"))
    .option("--limit <n>", "only the last N rows", "1000")
    .action(async (kind: string, options: CommonOptions & { limit: string }) => {
      if (!isListableKind(kind)) throw new UsageError(`unknown kind "${kind}" (one of ${Object.keys(LISTABLE).join(", ")})`);
      const rows = await withControlDir(options, async (ctx) => listRecords(await ctx.openLedger(), kind, parseLimit(options.limit)));
      if (options.json === true) printJson(rows);
      else if (rows.length === 0) printLine(`no ${kind}`);
      else printLine(formatTable(rows, Object.keys(rows[0]!).filter((k) => k !== "payload" && k !== "evidence" && k !== "text").map((k) => [k, (r: Record<string, unknown>) => cell(r[k])] as const)));
    });
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return "-";
  const text = typeof value === "object" ? JSON.stringify(value) : String(value);
  return text.length > 40 ? text.slice(0, 39) + "…" : text.replace(/\n/g, " ");
}
