import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { Command } from "commander";
import { UsageError } from "../errors.js";
import { formatEntry } from "../app/text.js";
import { isMemoryKind, MEMORY_KINDS, readMemory, writeMemory } from "../memory/project-memory.js";
import { withCommon, withControlDir, type CommonOptions } from "./context.js";
import { printJson, printLine } from "./output.js";

interface WriteOptions extends CommonOptions {
  readonly title: string;
  readonly file?: string;
  readonly body?: string;
  readonly stage?: string;
  readonly task?: string;
  readonly author?: string;
}

interface ReadOptions extends CommonOptions {
  readonly stage?: string;
  readonly task?: string;
}

/** `gaffer memory write|read`: project memory (plans, decisions, review findings, summaries). */
export function registerMemoryCommands(program: Command): void {
  const memory = program.command("memory").description(`project memory in memory/: ${MEMORY_KINDS.join(", ")}`);
  withCommon(memory.command("write").argument("<kind>", MEMORY_KINDS.join("|")).description("write a markdown memory entry and index it in the ledger"))
    .requiredOption("--title <title>", "title")
    .option("--file <path>", "read the body from a file (`-` for stdin)")
    .option("--body <text>", "the body as text")
    .option("--stage <stage>", "stage it is about")
    .option("--task <task>", "task it is about")
    .option("--author <author>", "who wrote it (default: the CLI actor)")
    .action(async (kind: string, options: WriteOptions) => {
      if (!isMemoryKind(kind)) throw new UsageError(`memory kind must be one of ${MEMORY_KINDS.join(", ")} (got "${kind}")`);
      if ((options.file === undefined) === (options.body === undefined)) throw new UsageError("give the body with exactly one of --file PATH (`-` for stdin) or --body TEXT");
      const body = options.body ?? (options.file === "-" ? await readStdin() : await readFile(resolve(options.file!), "utf8"));
      const entry = await withControlDir(options, async (ctx) =>
        writeMemory({ dir: ctx.dir, db: await ctx.openLedger(), kind, title: options.title, body, stage: options.stage ?? null, task: options.task ?? null, author: options.author ?? ctx.actor, actor: ctx.actor }),
      );
      if (options.json === true) printJson(entry);
      else printLine(`wrote ${entry.kind} "${entry.title}" to ${entry.path} (memory #${entry.id})`);
    });
  withCommon(memory.command("read").argument("[kind]", MEMORY_KINDS.join("|")).description("print memory entries, oldest first"))
    .option("--stage <stage>", "only entries about this stage")
    .option("--task <task>", "only entries about this task")
    .action(async (kind: string | undefined, options: ReadOptions) => {
      if (kind !== undefined && !isMemoryKind(kind)) throw new UsageError(`memory kind must be one of ${MEMORY_KINDS.join(", ")} (got "${kind}")`);
      const entries = await withControlDir(options, async (ctx) =>
        readMemory({ dir: ctx.dir, db: await ctx.openLedger(), ...(kind === undefined ? {} : { kind }), ...(options.stage === undefined ? {} : { stage: options.stage }), ...(options.task === undefined ? {} : { task: options.task }) }),
      );
      if (options.json === true) printJson(entries);
      else printLine(entries.length === 0 ? "no memory entries" : entries.map(formatEntry).join("\n\n"));
    });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
