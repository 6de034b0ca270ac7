/** A problem found in the manifests: data, never an exception. */
export interface ManifestIssue {
  /** Path relative to the control dir, e.g. `manifests/tasks.yaml`. */
  readonly file: string;
  /** 1-based line of the offending node; 0 when the problem has no position (e.g. no Project at all). */
  readonly line: number;
  /** 1-based column; 0 when there is no position. */
  readonly column: number;
  /** JSON Pointer into the document (`/spec/stage`); empty for file-level problems. */
  readonly pointer: string;
  /** Kind of the document, or null for file-level problems. */
  readonly kind: string | null;
  /** metadata.name of the document, or null. */
  readonly name: string | null;
  /** Stable code, e.g. SCHEMA_UNKNOWN_FIELD, UNKNOWN_STAGE, CYCLE_NEEDS. */
  readonly code: string;
  readonly message: string;
}

/** `manifests/a.yaml:12:5: Task/x: message`, the one-line form every CLI output uses. */
export function formatManifestIssue(issue: ManifestIssue): string {
  const where = issue.line > 0 ? `${issue.file}:${issue.line}:${issue.column}` : issue.file;
  const who = issue.kind === null ? "" : ` ${issue.kind}/${issue.name ?? "?"}:`;
  return `${where}:${who} ${issue.message}`;
}

export function compareIssues(a: ManifestIssue, b: ManifestIssue): number {
  return a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column || a.message.localeCompare(b.message);
}
