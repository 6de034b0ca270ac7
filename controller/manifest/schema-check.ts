import type { ErrorObject, ValidateFunction } from "ajv/dist/2020.js";
import { MANIFEST_KINDS, type ManifestKind } from "../core/manifest-types.js";
import type { ManifestIssue } from "./manifest-issue.js";
import type { DocPath, ParsedDoc } from "./parse.js";
import { readSchemas } from "./schemas.js";
import { loadValidators } from "./validator-cache.js";

let validators: Readonly<Record<ManifestKind, ValidateFunction>> | undefined;

/** The four schemas' validators, once per process (compiled once per schema version: validator-cache.ts). */
function getValidators(): Readonly<Record<ManifestKind, ValidateFunction>> {
  validators ??= loadValidators(readSchemas());
  return validators;
}

function isManifestKind(kind: string | null): kind is ManifestKind {
  return (MANIFEST_KINDS as readonly (string | null)[]).includes(kind);
}

/** Decodes an ajv `instancePath` (JSON Pointer) into a path, numbers for array indexes. */
export function decodePointer(pointer: string): DocPath {
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((part) => (/^(0|[1-9]\d*)$/.test(part) ? Number(part) : part));
}

export function encodePointer(path: DocPath): string {
  return path.map((part) => "/" + String(part).replace(/~/g, "~0").replace(/\//g, "~1")).join("");
}

/** `spec.roles[0].name`, how a path reads in a message. */
export function dottedPath(path: DocPath): string {
  return path.reduce<string>((out, part) => (typeof part === "number" ? `${out}[${part}]` : out === "" ? part : `${out}.${part}`), "");
}

/** Validates one document against its kind's schema; every problem at its node's position. */
export function checkDocumentSchema(doc: ParsedDoc): ManifestIssue[] {
  const kindProblem = checkKind(doc);
  if (kindProblem !== null) return [kindProblem];
  const validate = getValidators()[doc.kind as ManifestKind];
  if (validate(doc.value)) return [];
  const errors = (validate.errors ?? []).filter((error) => error.keyword !== "if");
  return dedupe(errors.map((error) => toIssue(doc, error)));
}

function checkKind(doc: ParsedDoc): ManifestIssue | null {
  const value = doc.value as Record<string, unknown>;
  const issue = (path: DocPath, code: string, message: string): ManifestIssue => {
    const pos = doc.locate(path);
    return { file: doc.file, ...pos, pointer: encodePointer(path), kind: doc.kind, name: doc.name, code, message };
  };
  if (!("kind" in value)) return issue([], "SCHEMA_REQUIRED", `missing required field "kind" (one of ${MANIFEST_KINDS.join(", ")})`);
  if (!isManifestKind(doc.kind)) {
    return issue(["kind"], "KIND_UNKNOWN", `unknown kind ${JSON.stringify(value.kind)} (expected one of ${MANIFEST_KINDS.join(", ")})`);
  }
  return null;
}

function dedupe(issues: ManifestIssue[]): ManifestIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = `${issue.line}:${issue.column}:${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function toIssue(doc: ParsedDoc, error: ErrorObject): ManifestIssue {
  const path = decodePointer(error.instancePath);
  const { code, message, target, key } = describe(error, path);
  const pos = doc.locate(target, { key });
  return { file: doc.file, ...pos, pointer: encodePointer(target), kind: doc.kind, name: doc.name, code, message };
}

interface Described {
  readonly code: string;
  readonly message: string;
  /** Path of the node the issue points at. */
  readonly target: DocPath;
  /** Point at the key rather than the value. */
  readonly key: boolean;
}

function describe(error: ErrorObject, path: DocPath): Described {
  const where = dottedPath(path);
  const field = where === "" ? "document" : where;
  const params = error.params as Record<string, unknown>;
  const data = error.data;
  switch (error.keyword) {
    case "required": {
      const missing = String(params.missingProperty);
      const full = where === "" ? missing : `${where}.${missing}`;
      // Points at the parent: at its key when it has one (`spec:`), else at the node (a list item, the document).
      return { code: "SCHEMA_REQUIRED", message: `missing required field "${full}"`, target: path, key: typeof path.at(-1) === "string" };
    }
    case "additionalProperties": {
      const extra = String(params.additionalProperty);
      const known = knownProperties(error);
      const hint = suggest(extra, known);
      const full = where === "" ? extra : `${where}.${extra}`;
      const tail = hint === null ? (known.length > 0 ? ` (allowed: ${known.join(", ")})` : "") : ` (did you mean "${hint}"?)`;
      return { code: "SCHEMA_UNKNOWN_FIELD", message: `unknown field "${full}"${tail}`, target: [...path, extra], key: true };
    }
    case "type":
      return { code: "SCHEMA_TYPE", message: `${field} must be ${expectedType(String(params.type))} (got ${typeName(data)})`, target: path, key: false };
    case "const":
      return { code: "SCHEMA_CONST", message: `${field} must be ${JSON.stringify(params.allowedValue)} (got ${JSON.stringify(data)})`, target: path, key: false };
    case "enum": {
      const allowed = (params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ");
      return { code: "SCHEMA_ENUM", message: `${field} must be one of ${allowed} (got ${JSON.stringify(data)})`, target: path, key: false };
    }
    case "pattern":
      if (path.at(-1) === "name") {
        return { code: "SCHEMA_NAME", message: `${field} ${JSON.stringify(data)} is not a DNS label (lowercase letters, digits and "-", starting and ending alphanumeric, at most 63 characters)`, target: path, key: false };
      }
      if (path.at(-1) === "ssh" && path.at(-3) === "hosts") {
        return { code: "SCHEMA_PATTERN", message: `${field} ${JSON.stringify(data)} is not an ssh destination: write user@host or host (no options, no spaces); put ssh options in ~/.ssh/config`, target: path, key: false };
      }
      return { code: "SCHEMA_PATTERN", message: `${field} ${JSON.stringify(data)} must match ${String(params.pattern)}`, target: path, key: false };
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum":
      return { code: "SCHEMA_RANGE", message: `${field} must be ${String(params.comparison)} ${String(params.limit)} (got ${JSON.stringify(data)})`, target: path, key: false };
    case "minItems":
      return { code: "SCHEMA_MIN_ITEMS", message: `${field} must have at least ${String(params.limit)} item${params.limit === 1 ? "" : "s"}`, target: path, key: false };
    case "minLength":
      return { code: "SCHEMA_EMPTY", message: `${field} must not be empty`, target: path, key: false };
    case "uniqueItems": {
      // ajv reports the pair as i < j; point at the later copy.
      const [first, second] = [Number(params.i), Number(params.j)].sort((a, b) => a - b) as [number, number];
      const item = Array.isArray(data) ? JSON.stringify(data[second]) : "an item";
      return { code: "SCHEMA_DUPLICATE_ITEM", message: `${field} lists ${item} twice (items ${first} and ${second})`, target: [...path, second], key: false };
    }
    default:
      return { code: `SCHEMA_${error.keyword.toUpperCase()}`, message: `${field} ${error.message ?? "is invalid"}`, target: path, key: false };
  }
}

function knownProperties(error: ErrorObject): string[] {
  const schema = error.parentSchema as { properties?: Record<string, unknown> } | undefined;
  return Object.keys(schema?.properties ?? {});
}

/** JSON Schema type names in the words of YAML. */
const TYPE_WORDS: Readonly<Record<string, string>> = {
  object: "a mapping",
  array: "a list",
  boolean: "true or false",
  integer: "an integer",
  number: "a number",
  string: "a string",
  null: "null",
};

function expectedType(types: string): string {
  return types
    .split(",")
    .map((type) => TYPE_WORDS[type] ?? type)
    .join(" or ");
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** The closest known name within edit distance 2, for "did you mean". */
export function suggest(word: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}
