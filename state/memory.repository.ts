import { appendEvent } from "./events.repository.js";
import type { Ledger } from "./ledger.js";

/** One indexed project-memory document. */
export interface MemoryRecord {
  readonly id: number;
  /** plan | decision | review | summary | note */
  readonly kind: string;
  readonly stage: string | null;
  readonly task: string | null;
  readonly title: string;
  /** Path of the markdown file, relative to the control dir. */
  readonly path: string;
  readonly author: string;
  readonly created: string;
}

/** Indexes a memory file and appends its `MemoryWritten` event; call it inside the transaction that writes the file. */
export async function insertMemoryRecord(db: Ledger, record: Omit<MemoryRecord, "id">, actor: string): Promise<MemoryRecord> {
  const row = await db
    .insertInto("memory")
    .values({ kind: record.kind, stage: record.stage, task: record.task, title: record.title, path: record.path, author: record.author, created_at: record.created })
    .returning("id")
    .executeTakeFirstOrThrow();
  await appendEvent(db, { at: record.created, actor, action: "MemoryWritten", subject: `memory/${row.id}`, payload: { kind: record.kind, title: record.title, path: record.path, stage: record.stage, task: record.task, author: record.author } });
  return { id: row.id, ...record };
}

export interface MemoryQuery {
  readonly kind?: string;
  readonly stage?: string;
  readonly task?: string;
}

/** Indexed memory, oldest first. */
export async function listMemoryRecords(db: Ledger, query: MemoryQuery = {}): Promise<MemoryRecord[]> {
  let q = db.selectFrom("memory").selectAll().orderBy("id");
  if (query.kind !== undefined) q = q.where("kind", "=", query.kind);
  if (query.stage !== undefined) q = q.where("stage", "=", query.stage);
  if (query.task !== undefined) q = q.where("task", "=", query.task);
  const rows = await q.execute();
  return rows.map((r) => ({ id: r.id, kind: r.kind, stage: r.stage, task: r.task, title: r.title, path: r.path, author: r.author, created: r.created_at }));
}
