import { createHash } from "node:crypto";
import type { AgentPoolManifest, ManifestSet, PlaybookManifest, ProjectManifest, TaskManifest } from "../core/manifest-types.js";
import { crossCheck, type SchemaValidDocs, type TypedDoc } from "./cross-check.js";
import { compareIssues, type ManifestIssue } from "./manifest-issue.js";
import { parseManifestFile, type ParsedDoc } from "./parse.js";
import { checkDocumentSchema } from "./schema-check.js";

/** One manifest file's bytes and its path relative to the control dir. */
export interface ManifestSource {
  readonly file: string;
  readonly bytes: Uint8Array;
  /** Set when the file was not read (not a regular file, too large, a symlink out of manifests/): a file-level issue. */
  readonly problem?: { readonly code: string; readonly message: string };
}

export type ValidationResult =
  | { readonly valid: true; readonly set: ManifestSet; readonly issues: readonly [] }
  | { readonly valid: false; readonly issues: readonly ManifestIssue[] };

/**
 * Pure: manifest file contents -> a validated ManifestSet, or every problem
 * found (syntax, schema, then cross-document), sorted by file and position.
 */
export function validateManifests(sources: readonly ManifestSource[], manifestsDir = "manifests"): ValidationResult {
  const issues: ManifestIssue[] = [];
  const docs = {
    projects: [] as TypedDoc<ProjectManifest>[],
    agentPools: [] as TypedDoc<AgentPoolManifest>[],
    playbooks: [] as TypedDoc<PlaybookManifest>[],
    tasks: [] as TypedDoc<TaskManifest>[],
    rejected: [] as ParsedDoc[],
    unreadable: false,
  };
  for (const source of [...sources].sort((a, b) => a.file.localeCompare(b.file))) {
    const parsed: { docs: readonly ParsedDoc[]; issues: readonly ManifestIssue[] } =
      source.problem === undefined ? parseManifestFile(source.file, source.bytes) : { docs: [], issues: [{ file: source.file, line: 0, column: 0, pointer: "", kind: null, name: null, ...source.problem }] };
    issues.push(...parsed.issues);
    // An empty file hides nothing; any other parse problem may hide documents of any kind.
    if (parsed.issues.some((issue) => issue.code !== "FILE_EMPTY")) docs.unreadable = true;
    for (const doc of parsed.docs) {
      const problems = checkDocumentSchema(doc);
      if (problems.length > 0) {
        issues.push(...problems);
        docs.rejected.push(doc);
        continue;
      }
      const value = doc.value as ProjectManifest | AgentPoolManifest | PlaybookManifest | TaskManifest;
      if (value.kind === "Project") docs.projects.push({ doc, value });
      else if (value.kind === "AgentPool") docs.agentPools.push({ doc, value });
      else if (value.kind === "Playbook") docs.playbooks.push({ doc, value });
      else docs.tasks.push({ doc, value });
    }
  }
  const schemaValid: SchemaValidDocs = docs;
  issues.push(...crossCheck(schemaValid, manifestsDir));
  if (issues.length > 0) return { valid: false, issues: issues.sort(compareIssues) };
  const set = {
    project: docs.projects[0]!.value,
    agentPools: docs.agentPools.map((d) => d.value),
    playbooks: docs.playbooks.map((d) => d.value),
    tasks: docs.tasks.map((d) => d.value),
  };
  return { valid: true, set: { ...set, generation: digestManifests(set) }, issues: [] };
}

/** Stable content hash of a manifest set (key order and file layout do not matter). */
export function digestManifests(value: unknown): string {
  return createHash("sha256").update(canonicalJson(value)).digest("hex").slice(0, 16);
}

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
