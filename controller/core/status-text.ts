import { isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Pair } from "yaml";
import type { ApprovalDecision, ApprovalEntry, MalformedApprovalEntry } from "./status-types.js";

/**
 * Pure text surgery on status files. The controller regenerates every key of
 * a status file except the top-level `approvals:` block, which people own: its
 * exact source span (the key, its list, and every comment line between the
 * previous top-level key and the next one) is found from the parsed
 * document's ranges and re-emitted verbatim.
 */

export const APPROVALS_KEY = "approvals";

export interface ApprovalsLocation {
  /** The person-owned source text (ends where the file or the next top-level key begins); null when absent. */
  readonly block: string | null;
  readonly entries: readonly ApprovalEntry[];
  readonly malformed: readonly MalformedApprovalEntry[];
}

export type ParsedStatusText =
  | { readonly ok: true; readonly value: Record<string, unknown>; readonly approvals: ApprovalsLocation }
  | { readonly ok: false; readonly line: number; readonly column: number; readonly message: string };

interface Located {
  readonly doc: Document;
  readonly lines: LineCounter;
  readonly pair: Pair | undefined;
  readonly start: number;
  readonly end: number;
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf("\n", offset - 1) + 1;
}

function afterLineEnd(text: string, offset: number): number {
  if (offset > 0 && text[offset - 1] === "\n") return offset;
  const nl = text.indexOf("\n", offset);
  return nl === -1 ? text.length : nl + 1;
}

function locate(text: string, header: string): Located | { readonly error: { line: number; column: number; message: string } } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, keepSourceTokens: false, uniqueKeys: false });
  const firstError = doc.errors[0];
  if (firstError !== undefined) {
    const pos = lines.linePos(firstError.pos[0]);
    return { error: { line: pos.line, column: pos.col, message: firstError.message.split("\n")[0]! } };
  }
  if (doc.contents === null) return { doc, lines, pair: undefined, start: 0, end: 0 };
  if (!isMap(doc.contents)) return { error: { line: 1, column: 1, message: "a status file must be a YAML mapping" } };
  const items = doc.contents.items;
  const index = items.findIndex((p) => isScalar(p.key) && p.key.value === APPROVALS_KEY);
  if (index === -1) return { doc, lines, pair: undefined, start: 0, end: 0 };
  const pair = items[index]!;
  const previous = items[index - 1];
  const next = items[index + 1];
  const keyStart = (pair.key as { range: [number, number, number] }).range[0];
  let start: number;
  // With no key before it, everything above belongs to people, except the controller's own header.
  if (previous === undefined) start = text.startsWith(header) && header.length <= keyStart ? header.length : 0;
  else {
    const node = (previous.value ?? previous.key) as { range?: [number, number, number] } | null;
    start = afterLineEnd(text, node?.range?.[1] ?? keyStart);
  }
  const end = next === undefined ? text.length : lineStart(text, (next.key as { range: [number, number, number] }).range[0]);
  return { doc, lines, pair, start, end };
}

/** Pure: parses a status file, returning the controller's values and the person-owned approvals block. */
export function parseStatusText(text: string, header: string): ParsedStatusText {
  const located = locate(text, header);
  if ("error" in located) return { ok: false, ...located.error };
  let raw: unknown;
  try {
    raw = located.doc.toJS({ json: true, maxAliasCount: 100 });
  } catch (error) {
    // An alias bomb or an alias with no anchor: refused like a syntax error (at the first alias), never expanded.
    let offset = 0;
    visit(located.doc, { Alias: (_, node) => ((offset = node.range?.[0] ?? 0), visit.BREAK) });
    const { line, col } = located.lines.linePos(offset);
    return { ok: false, line, column: col, message: `cannot expand the aliases of this file (${(error as Error).message})` };
  }
  const value = raw !== null && typeof raw === "object" && !Array.isArray(raw) ? { ...(raw as Record<string, unknown>) } : {};
  delete value[APPROVALS_KEY];
  if (located.pair === undefined) return { ok: true, value, approvals: { block: null, entries: [], malformed: [] } };
  return { ok: true, value, approvals: { block: text.slice(located.start, located.end), ...readEntries(located, text) } };
}

function entryLines(lines: LineCounter, text: string, range: readonly number[]): [number, number] {
  let last = Math.max(range[0]!, (range[1] ?? range[0]!) - 1);
  while (last > range[0]! && /\s/.test(text[last]!)) last -= 1;
  return [lines.linePos(range[0]!).line, lines.linePos(last).line];
}

function readEntries(located: Located, text: string): Pick<ApprovalsLocation, "entries" | "malformed"> {
  const value = located.pair!.value;
  if (value === null || (isScalar(value) && value.value === null)) return { entries: [], malformed: [] };
  if (!isSeq(value)) {
    const range = (value as { range?: number[] }).range ?? [0, 0];
    return { entries: [], malformed: [{ index: 0, lines: entryLines(located.lines, text, range), problem: "`approvals` must be a list of {requestId, decision, comment}" }] };
  }
  const entries: ApprovalEntry[] = [];
  const malformed: MalformedApprovalEntry[] = [];
  value.items.forEach((item, index) => {
    const range = (item as { range?: number[] } | null)?.range ?? value.range ?? [0, 0];
    const lines = entryLines(located.lines, text, range);
    const raw = (item as { toJSON?: () => unknown } | null)?.toJSON?.() as Record<string, unknown> | undefined;
    const problem = entryProblem(raw);
    if (problem !== null) malformed.push({ index, lines, problem });
    else entries.push({ index, requestId: String(raw!.requestId), decision: raw!.decision as ApprovalDecision, comment: raw!.comment === undefined || raw!.comment === null ? null : String(raw!.comment), lines });
  });
  return { entries, malformed };
}

function entryProblem(raw: Record<string, unknown> | undefined): string | null {
  if (raw === undefined || raw === null || typeof raw !== "object" || Array.isArray(raw)) return "an entry must be a mapping {requestId, decision, comment}";
  if (typeof raw.requestId !== "string" || raw.requestId === "") return "requestId is missing";
  if (raw.decision !== "approved" && raw.decision !== "rejected") return `decision must be approved or rejected (got ${JSON.stringify(raw.decision ?? null)})`;
  const unknown = Object.keys(raw).filter((k) => k !== "requestId" && k !== "decision" && k !== "comment");
  if (unknown.length > 0) return `unknown key ${unknown.map((k) => JSON.stringify(k)).join(", ")}`;
  return null;
}

/** One entry as `gaffer approve` writes it: a flow mapping on one line (so `git blame` attributes it to one commit). */
export function formatApprovalEntry(entry: { readonly requestId: string; readonly decision: ApprovalDecision; readonly comment: string | null }): string {
  const comment = entry.comment === null ? "" : `, comment: ${JSON.stringify(entry.comment)}`;
  return `{requestId: ${JSON.stringify(entry.requestId)}, decision: ${entry.decision}${comment}}`;
}

/**
 * Pure: `text` with one entry appended to its `approvals:` list, every other
 * byte unchanged (a new block is added at the end when there is none). Block
 * lists get a new `- ` line at the list's indentation after the last entry;
 * an empty `[]` becomes a block list; a non-empty flow list gets the entry on
 * a new line before its `]`.
 */
export function appendApprovalText(text: string, header: string, entry: Parameters<typeof formatApprovalEntry>[0]): string {
  const located = locate(text, header);
  if ("error" in located) throw new Error(`cannot parse the status file (line ${located.error.line}: ${located.error.message})`);
  const item = formatApprovalEntry(entry);
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  if (located.pair === undefined) return `${text}${text === "" || text.endsWith("\n") ? "" : eol}${APPROVALS_KEY}:${eol}  - ${item}${eol}`;
  const value = located.pair.value as { range?: [number, number, number]; items?: unknown[] } | null;
  const keyEnd = (located.pair.key as { range: [number, number, number] }).range[1];
  if (value === null || value.range === undefined || (isScalar(value) && value.value === null)) return insertAtLineEnd(text, keyEnd, `${eol}  - ${item}`);
  if (isSeq(value) && value.flow === true) {
    const [start, end] = value.range;
    if (value.items.length === 0) {
      // Drop `[]` and the space that separated it, so no trailing blank is left behind.
      const spaced = text[start - 1] === " ";
      const atEnd = end === text.length || text[end] === "\n" || text[end] === "\r";
      const [from, to] = spaced && atEnd ? [start - 1, end] : spaced && text[end] === " " ? [start, end + 1] : [start, end];
      return insertAtLineEnd(text.slice(0, from) + text.slice(to), from, `${eol}  - ${item}`);
    }
    const close = text.lastIndexOf("]", end);
    const before = text.slice(0, close).trimEnd();
    return `${before}${before.endsWith(",") ? "" : ","}${eol}  ${item}${text.slice(close)}`;
  }
  if (!isSeq(value)) throw new Error("`approvals` is not a list; fix it by hand");
  const indent = value.range[0] - lineStart(text, value.range[0]);
  const lastItem = value.items[value.items.length - 1] as { range?: number[] } | undefined;
  let anchor = lastItem?.range?.[1] ?? value.range[1];
  while (anchor > 0 && /\s/.test(text[anchor - 1]!)) anchor -= 1;
  return insertAtLineEnd(text, anchor, `${eol}${" ".repeat(indent)}- ${item}`);
}

function insertAtLineEnd(text: string, offset: number, insert: string): string {
  let nl = text.indexOf("\n", offset);
  if (nl === -1) nl = text.length;
  else if (text[nl - 1] === "\r") nl -= 1;
  return text.slice(0, nl) + insert + text.slice(nl);
}
