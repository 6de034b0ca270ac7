import { mkdir, open, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { UsageError } from "../errors.js";
import { insertMemoryRecord, listMemoryRecords, type MemoryRecord } from "../../state/memory.repository.js";
import { immediateTransaction, nowIso, type Ledger } from "../../state/ledger.js";

/**
 * Project memory (seed skill 15): plans, decisions, review findings and
 * summaries as markdown files with YAML front matter in `<dir>/memory/`,
 * indexed in the ledger's `memory` table.
 */

export const MEMORY_KINDS = ["plan", "decision", "review", "summary", "note"] as const;
export type MemoryKind = (typeof MEMORY_KINDS)[number];
export const MEMORY_DIR = "memory";

export function isMemoryKind(value: string): value is MemoryKind {
  return (MEMORY_KINDS as readonly string[]).includes(value);
}

export interface WriteMemoryInput {
  readonly dir: string;
  readonly db: Ledger;
  readonly kind: MemoryKind;
  readonly title: string;
  /** Markdown. */
  readonly body: string;
  readonly stage?: string | null;
  readonly task?: string | null;
  /** Who wrote it: a person, an agent session, `controller`. */
  readonly author: string;
  /** Ledger actor of the event (defaults to `author`). */
  readonly actor?: string;
}

export interface MemoryEntry extends MemoryRecord {
  /** The markdown after the front matter; null when the file is gone. */
  readonly body: string | null;
}

function slugify(title: string): string {
  const slug = title.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 48).replace(/-+$/, "");
  return slug === "" ? "untitled" : slug;
}

/** The markdown file: front matter (kind, title, stage, task, author, created) then the body. */
export function renderMemoryFile(record: Omit<MemoryRecord, "id" | "path">, body: string): string {
  const front = stringify({ kind: record.kind, title: record.title, stage: record.stage, task: record.task, author: record.author, created: record.created }, { lineWidth: 0 });
  return `---\n${front}---\n\n${body.endsWith("\n") || body === "" ? body : `${body}\n`}`;
}

/** Splits a memory file into its front matter and body. */
export function parseMemoryFile(text: string): { readonly front: Record<string, unknown>; readonly body: string } {
  const match = /^---\r?\n([\s\S]*?)\r?\n---\r?\n(?:\r?\n)?/.exec(text);
  if (match === null) return { front: {}, body: text };
  const front = parse(match[1]!) as unknown;
  return { front: front !== null && typeof front === "object" ? (front as Record<string, unknown>) : {}, body: text.slice(match[0].length) };
}

/** Writes the file (never overwriting) and indexes it with its `MemoryWritten` event in one transaction. */
export async function writeMemory(input: WriteMemoryInput): Promise<MemoryEntry> {
  if (!isMemoryKind(input.kind)) throw new UsageError(`memory kind must be one of ${MEMORY_KINDS.join(", ")} (got "${String(input.kind)}")`);
  if (input.title.trim() === "") throw new UsageError("a memory entry needs a non-empty --title");
  const created = nowIso();
  const base = { kind: input.kind, stage: input.stage ?? null, task: input.task ?? null, title: input.title.trim(), author: input.author, created };
  await mkdir(join(input.dir, MEMORY_DIR), { recursive: true });
  const stem = `${created.slice(0, 19).replace(/[-:]/g, "").replace("T", "-")}-${input.kind}-${slugify(base.title)}`;
  return immediateTransaction(input.db, async (trx) => {
    const path = await createFile(input.dir, stem, renderMemoryFile(base, input.body));
    try {
      const record = await insertMemoryRecord(trx, { ...base, path }, input.actor ?? input.author);
      return { ...record, body: parseMemoryFile(renderMemoryFile(base, input.body)).body };
    } catch (error) {
      await rm(join(input.dir, path), { force: true });
      throw error;
    }
  });
}

async function createFile(dir: string, stem: string, text: string): Promise<string> {
  for (let n = 1; ; n += 1) {
    const path = `${MEMORY_DIR}/${stem}${n === 1 ? "" : `-${n}`}.md`;
    try {
      const handle = await open(join(dir, path), "wx");
      try {
        await handle.writeFile(text, "utf8");
        await handle.sync();
      } finally {
        await handle.close();
      }
      return path;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
}

export interface ReadMemoryInput {
  readonly dir: string;
  readonly db: Ledger;
  readonly kind?: MemoryKind;
  readonly stage?: string;
  readonly task?: string;
}

/** Indexed memory entries (oldest first) with their bodies read from the files. */
export async function readMemory(input: ReadMemoryInput): Promise<MemoryEntry[]> {
  const query = { ...(input.kind === undefined ? {} : { kind: input.kind }), ...(input.stage === undefined ? {} : { stage: input.stage }), ...(input.task === undefined ? {} : { task: input.task }) };
  const records = await listMemoryRecords(input.db, query);
  return Promise.all(
    records.map(async (record) => {
      try {
        return { ...record, body: parseMemoryFile(await readFile(join(input.dir, record.path), "utf8")).body };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return { ...record, body: null };
        throw error;
      }
    }),
  );
}
