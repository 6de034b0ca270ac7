import type { AgentPoolManifest, ManifestKind, PlaybookManifest, ProjectManifest, TaskManifest } from "../core/manifest-types.js";
import type { DocPath, ParsedDoc } from "./parse.js";
import { dottedPath } from "./schema-check.js";

/** A schema-valid document with its typed value. */
export interface TypedDoc<T> {
  readonly doc: ParsedDoc;
  readonly value: T;
}

export interface SchemaValidDocs {
  readonly projects: readonly TypedDoc<ProjectManifest>[];
  readonly agentPools: readonly TypedDoc<AgentPoolManifest>[];
  readonly playbooks: readonly TypedDoc<PlaybookManifest>[];
  readonly tasks: readonly TypedDoc<TaskManifest>[];
  /** Documents that failed their schema check: what they define is unknown, so references to their kind are not judged. */
  readonly rejected: readonly ParsedDoc[];
  /** Some file or document could not be read at all (syntax, encoding), so any kind may be missing. */
  readonly unreadable: boolean;
}

export type Report = (doc: ParsedDoc, path: DocPath, code: string, message: string, options?: { key?: boolean }) => void;

/** What the cross-checks need: the documents, the reporter, and which kinds are completely known. */
export interface CheckContext {
  readonly docs: SchemaValidDocs;
  readonly report: Report;
  /** False when a document of that kind (or of an unknown kind) was unreadable or rejected: "unknown X" would be a guess. */
  readonly complete: Readonly<Record<ManifestKind, boolean>>;
}

/** `manifests/a.yaml:3:7`, where a node is, for messages that point at a second place. */
export function where(doc: ParsedDoc, path: DocPath): string {
  const pos = doc.locate(path);
  return `${doc.file}:${pos.line}:${pos.column}`;
}

export function checkRegex(doc: ParsedDoc, path: DocPath, source: string, report: Report): void {
  try {
    new RegExp(source, "m");
  } catch (error) {
    const reason = (error as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, "");
    report(doc, path, "REGEX_INVALID", `${dottedPath(path)} ${JSON.stringify(source)} is not a valid regular expression: ${reason}`);
  }
}
