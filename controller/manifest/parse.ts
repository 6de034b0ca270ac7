import { LineCounter, isMap, isScalar, parseAllDocuments, visit, type Document } from "yaml";
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
  // resolveKnownTags: false makes `!!binary`, `!!timestamp`... unresolved like any other tag: a manifest holds plain data.
  const parsed = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true, resolveKnownTags: false });
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
    const warning = doc.warnings.find((w) => w.code === "TAG_RESOLVE_FAILED" || w.code === "BAD_DIRECTIVE");
    if (warning !== undefined) {
      issues.push(fileIssue(file, warning.code === "BAD_DIRECTIVE" ? "YAML_DIRECTIVE" : "YAML_TAG", warningMessage(warning.code, warning.message), at(warning.pos[0])));
      continue;
    }
    if (doc.contents === null) continue;
    if (!isMap(doc.contents)) {
      issues.push(fileIssue(file, "DOCUMENT_NOT_MAPPING", "document must be a mapping with apiVersion, kind, metadata and spec", at(doc.contents.range?.[0] ?? 0)));
      continue;
    }
    const expanded = expandDocument(doc);
    if ("problem" in expanded) {
      issues.push(fileIssue(file, "YAML_ALIAS", expanded.problem.message, at(expanded.problem.offset)));
      continue;
    }
    docs.push(toParsedDoc(file, index, doc, expanded.value, at));
  }
  if (docs.length === 0 && issues.length === 0) {
    issues.push(fileIssue(file, "FILE_EMPTY", "file has no manifest documents; add one or delete the file"));
  }
  return { docs, issues };
}

/** Most aliases a manifest document may expand (yaml's `maxAliasCount`): more is an alias bomb, not a manifest. */
export const MAX_ALIAS_COUNT = 100;

function warningMessage(code: string, message: string): string {
  if (code === "BAD_DIRECTIVE") return `${message.replace(/\.$/, "")}: gaffer reads YAML 1.2 (write \`%YAML 1.2\` or drop the directive)`;
  const tag = /Unresolved tag: (.*)/.exec(message)?.[1] ?? "?";
  return `unknown YAML tag ${tag}: manifests hold plain data (strings, numbers, booleans, lists, mappings); remove the tag`;
}

/** The document as plain JS, under the alias limit; a bomb or an unknown alias becomes a problem at the first alias. */
function expandDocument(doc: Document.Parsed): { value: unknown } | { problem: { offset: number; message: string } } {
  try {
    return { value: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown };
  } catch (error) {
    const text = (error as Error).message;
    const missing = /Unresolved alias.*: (.*)$/.exec(text)?.[1];
    let offset = doc.contents?.range?.[0] ?? 0;
    visit(doc, {
      Alias(_, node) {
        if (missing !== undefined && node.source !== missing) return undefined;
        offset = node.range?.[0] ?? offset;
        return visit.BREAK;
      },
    });
    if (missing !== undefined) return { problem: { offset, message: `alias *${missing} names no anchor defined before it; define \`&${missing}\` first` } };
    if (/Excessive alias count/.test(text)) return { problem: { offset, message: `too many aliases: the document expands to more than ${MAX_ALIAS_COUNT} alias uses (an alias bomb?); write the values out` } };
    return { problem: { offset, message: `cannot expand the document: ${text}` } };
  }
}

function toParsedDoc(file: string, index: number, doc: Document.Parsed, value: unknown, at: (offset: number) => Position): ParsedDoc {
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
