import type { Ledger } from "./ledger.js";

/** Ledger tables `gaffer get` can list, each with its natural order. */
export const LISTABLE = {
  events: "id",
  commands: "issued_at",
  sessions: "created_at",
  reservations: "acquired_at",
  worktrees: "created_at",
  merges: "id",
  stages: "name",
  tasks: "name",
  gates: "id",
  approvals: "id",
  memory: "id",
  effects: "issued_at",
} as const;

export type ListableKind = keyof typeof LISTABLE;

export function isListableKind(kind: string): kind is ListableKind {
  return Object.hasOwn(LISTABLE, kind);
}

/** Rows of one table as plain records (camelCase keys, JSON columns parsed), oldest first. */
export async function listRecords(db: Ledger, kind: ListableKind, limit = 1000): Promise<Record<string, unknown>[]> {
  const rows = (await db.selectFrom(kind).selectAll().orderBy(LISTABLE[kind], "desc").limit(limit).execute()) as Record<string, unknown>[];
  return rows.reverse().map(toRecord);
}

const JSON_COLUMNS = new Set(["payload", "evidence", "result", "conflicted_files"]);

function toRecord(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    const camel = key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    out[camel] = JSON_COLUMNS.has(key) && typeof value === "string" ? safeParse(value) : value;
  }
  return out;
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
