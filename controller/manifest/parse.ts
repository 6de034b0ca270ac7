import { LineCounter, isMap, isScalar, parseAllDocuments, type Document } from "yaml";
import type { ManifestIssue } from "./manifest-issue.js";
import { firstSyntaxProblem } from "./yaml-syntax.js";

/** A JSON path into a document: object keys and array indexes. */
export type DocPath = readonly (string | number)[];

export interface Position {
  readonly line: number;
  readonly column: number;
}

/** One YAML document of a manifest file, parsed, with a way back to source positions. */
export interface ParsedDoc {
  readonly file: string;
  /** 0-based index of the document within its file. */
  readonly index: number;
  /** Plain JS value of the document. */
  readonly value: unknown;
  /** `kind` when it is a string, else null. */
  readonly kind: string | null;
  /** `metadata.name` when it is a string, else null. */
  readonly name: string | null;
  /**
   * Position of the node at `path`. With `key: true` the position of the key
   * itself (for unknown fields). Falls back to the nearest existing ancestor.
   */
  locate(path: DocPath, options?: { readonly key?: boolean }): Position;
}

export interface ParseResult {
  readonly docs: readonly ParsedDoc[];
  readonly issues: readonly ManifestIssue[];
}

function fileIssue(file: string, code: string, message: string, pos: Position = { line: 1, column: 1 }): ManifestIssue {
  return { file, line: pos.line, column: pos.column, pointer: "", kind: null, name: null, code, message };
}

/**
 * Decodes bytes as strict UTF-8 (a leading BOM is dropped). On invalid bytes
 * returns the position of the first bad byte.
 */
export function decodeUtf8(bytes: Uint8Array): { text: string } | { badAt: Position } {
  try {
    return { text: new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes) };
  } catch {
    const lossy = new TextDecoder("utf-8").decode(bytes);
    const offset = lossy.indexOf("\uFFFD");
    const before = lossy.slice(0, Math.max(offset, 0));
    const line = before.split("\n").length;
    return { badAt: { line, column: before.length - before.lastIndexOf("\n") } };
  }
}

/** Parses the bytes of one manifest file into documents; syntax and encoding problems become issues. */
export function parseManifestFile(file: string, bytes: Uint8Array): ParseResult {
  const decoded = decodeUtf8(bytes);
  if ("badAt" in decoded) {
    return { docs: [], issues: [fileIssue(file, "FILE_NOT_UTF8", "file is not valid UTF-8 (first invalid byte here); save it as UTF-8", decoded.badAt)] };
  }
  return parseManifestText(file, decoded.text);
}

export function parseManifestText(file: string, text: string): ParseResult {
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const yamlDocs: Document.Parsed[] = Array.isArray(parsed) ? parsed : [];
  const issues: ManifestIssue[] = [];
  const docs: ParsedDoc[] = [];
  const at = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  for (const [index, doc] of yamlDocs.entries()) {
    if (doc.errors.length > 0) {
      const problem = firstSyntaxProblem(text, doc.errors, (offset) => lineCounter.linePos(offset).line);
      issues.push(fileIssue(file, "YAML_SYNTAX", `YAML syntax error: ${problem.message}`, at(problem.offset)));
      continue;
    }
    if (doc.contents === null) continue;
    if (!isMap(doc.contents)) {
      issues.push(fileIssue(file, "DOCUMENT_NOT_MAPPING", "document must be a mapping with apiVersion, kind, metadata and spec", at(doc.contents.range?.[0] ?? 0)));
      continue;
    }
    docs.push(toParsedDoc(file, index, doc, at));
  }
  if (docs.length === 0 && issues.length === 0) {
    issues.push(fileIssue(file, "FILE_EMPTY", "file has no manifest documents; add one or delete the file"));
  }
  return { docs, issues };
}

function toParsedDoc(file: string, index: number, doc: Document.Parsed, at: (offset: number) => Position): ParsedDoc {
  const value: unknown = doc.toJS({ maxAliasCount: 100 });
  const record = (value ?? {}) as { kind?: unknown; metadata?: { name?: unknown } };
  const kind = typeof record.kind === "string" ? record.kind : null;
  const name = typeof record.metadata?.name === "string" ? record.metadata.name : null;
  const rootOffset = doc.contents?.range?.[0] ?? 0;
  const nodeStart = (path: DocPath): number | undefined => {
    const node = path.length === 0 ? doc.contents : doc.getIn(path, true);
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    // An empty value (`key:` with nothing after it) has no text of its own: use its key.
    if (range === undefined || (isScalar(node) && node.value === null && range[0] === range[1])) return undefined;
    return range[0];
  };
  const keyStart = (path: DocPath): number | undefined => {
    const last = path.at(-1);
    if (typeof last !== "string") return undefined;
    const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
    if (!isMap(parent)) return undefined;
    const pair = parent.items.find((item) => isScalar(item.key) && String(item.key.value) === last);
    return pair !== undefined && isScalar(pair.key) ? pair.key.range?.[0] : undefined;
  };
  const locate = (path: DocPath, options: { readonly key?: boolean } = {}): Position => {
    const own = options.key === true ? (keyStart(path) ?? nodeStart(path)) : (nodeStart(path) ?? keyStart(path));
    if (own !== undefined) return at(own);
    // Missing node: the nearest existing ancestor, at its key when it has one.
    for (let depth = path.length - 1; depth >= 0; depth--) {
      const prefix = path.slice(0, depth);
      const offset = keyStart(prefix) ?? nodeStart(prefix);
      if (offset !== undefined) return at(offset);
    }
    return at(rootOffset);
  };
  return { file, index, value, kind, name, locate };
}
