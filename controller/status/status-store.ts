import { randomBytes } from "node:crypto";
import { lstatSync, type BigIntStats } from "node:fs";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { basename, dirname, join, relative } from "node:path";
import { readBoundedFile } from "../adapters/bounded-read.js";
import { stringify } from "yaml";
import type { ApprovalsLocation } from "../core/status-text.js";
import { appendApprovalText, parseStatusText } from "../core/status-text.js";
import type { ControllerStatus, ManifestErrorEntry, StageStatus, TaskStatus } from "../core/status-types.js";
import type { ManifestIssue } from "../manifest/manifest-issue.js";
import { InvalidNameError, StatusFileInvalidError } from "../errors.js";

/**
 * The status-file store: `status/stages/<stage>.yaml`, `status/tasks/<task>.yaml`
 * and `status/controller.yaml` in a control dir. Writes are atomic (temp file +
 * rename in the same directory), skipped when the bytes would not change, and
 * keep the person-owned `approvals:` block of a file byte-for-byte.
 */

export type StatusKind = "stage" | "task" | "controller";

const NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const KIND_NAMES = { stage: "StageStatus", task: "TaskStatus", controller: "ControllerStatus" } as const;

/** Path of a status file relative to the control dir. */
export function statusFilePath(kind: StatusKind, name = "controller"): string {
  if (kind === "controller") return "status/controller.yaml";
  if (!NAME.test(name)) throw new InvalidNameError(`"${name}" is not a valid ${kind} name (DNS label: lowercase letters, digits and "-")`);
  return `status/${kind === "stage" ? "stages" : "tasks"}/${name}.yaml`;
}

/** The comment every status file starts with: whose file it is, and the one part that is the reader's. */
export function statusHeader(kind: StatusKind, name = "controller"): string {
  const lines = [`# Status of ${kind === "controller" ? "the gaffer controller" : `${kind} "${name}"`}, rewritten by the gaffer controller on every pass.`];
  if (kind === "stage") {
    lines.push(
      "# Do not edit it, except the `approvals:` list at the end: that list (and the comments",
      "# around it) is yours and is kept byte-for-byte. To answer the approvalRequest below,",
      `# run \`gaffer approve ${name}\` (or \`gaffer reject ${name}\`), or add one line`,
      "#   - {requestId: <approvalRequest.id>, decision: approved|rejected, comment: \"why\"}",
      "# and commit it: an approval counts only once committed by an approver of the Project policy.",
    );
  } else lines.push("# Do not edit it: your changes would be overwritten. Edit manifests/ instead.");
  return lines.join("\n") + "\n";
}

export interface StatusRead<T> {
  /** Null when the file does not exist (or holds only an approvals block). */
  readonly status: T | null;
  readonly approvals: ApprovalsLocation;
  /** The file's exact text (null when absent). */
  readonly text: string | null;
  /** Path relative to the control dir. */
  readonly file: string;
}

/**
 * A status file's text: only a regular file of at most 1 MiB inside status/
 * is read (a FIFO or device there never blocks a pass); anything else is
 * STATUS_FILE_INVALID naming the file.
 */
async function readText(path: string): Promise<string | null> {
  const statusDir = join(dirname(path), basename(dirname(path)) === "status" ? "" : "..");
  const read = await readBoundedFile(path, { root: statusDir, rootLabel: "status" });
  if (read === null) return null;
  if (!read.ok) {
    const file = relative(dirname(statusDir), path);
    throw new StatusFileInvalidError(`${file}: ${read.problem.message}`, { details: { code: read.problem.code } });
  }
  return read.bytes.toString("utf8");
}

const EMPTY_APPROVALS: ApprovalsLocation = { block: null, entries: [], malformed: [] };

/** The identity of a file's bytes: a write in place changes size or mtime, a rename the inode. */
const fileKey = (s: BigIntStats): string => `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}`;

/**
 * Status files as last read, by path and file identity: a controller pass
 * asks for every task's file, and re-reading and re-parsing 50 unchanged YAML
 * files was most of an idle controller's work. Any edit (in place or by
 * rename) changes the identity, so a person's edit is always read. As git
 * does for its index ("racy git"), a file modified less than a second before
 * the read is not remembered: a second write within the same clock tick (or
 * into a reused inode) could keep size and mtime.
 */
const RACY_MS = 1000;
const lastRead = new Map<string, { readonly key: string; readonly read: StatusRead<Record<string, unknown>> }>();

function statusStat(path: string): BigIntStats | null {
  try {
    return lstatSync(path, { bigint: true, throwIfNoEntry: false }) ?? null;
  } catch {
    return null;
  }
}

async function readStatusFile(dir: string, kind: StatusKind, name: string): Promise<StatusRead<Record<string, unknown>>> {
  const file = statusFilePath(kind, name);
  const path = join(dir, file);
  // Synchronous: one stat call costs microseconds, its trip through the thread pool far more (50 files a pass).
  const seen = statusStat(path);
  const key = seen === null || seen.isSymbolicLink() ? null : fileKey(seen);
  const known = lastRead.get(path);
  if (key !== null && known?.key === key) return known.read;
  const started = Date.now();
  const read = await readAndParse(path, file, kind, name);
  if (key !== null && started - Number(seen!.mtimeMs) > RACY_MS) lastRead.set(path, { key, read });
  else lastRead.delete(path);
  return read;
}

async function readAndParse(path: string, file: string, kind: StatusKind, name: string): Promise<StatusRead<Record<string, unknown>>> {
  const text = await readText(path);
  if (text === null) return { status: null, approvals: EMPTY_APPROVALS, text, file };
  const parsed = parseStatusText(text, statusHeader(kind, name));
  if (!parsed.ok) {
    throw new StatusFileInvalidError(`${file}:${parsed.line}:${parsed.column}: ${parsed.message}; fix the file by hand (gaffer does not rewrite a status file it cannot parse, so no approval is lost)`);
  }
  const status = typeof parsed.value.phase === "string" ? parsed.value : null;
  return { status, approvals: parsed.approvals, text, file };
}

export async function readStageStatus(dir: string, stage: string): Promise<StatusRead<StageStatus>> {
  return (await readStatusFile(dir, "stage", stage)) as unknown as StatusRead<StageStatus>;
}

export async function readTaskStatus(dir: string, task: string): Promise<StatusRead<TaskStatus>> {
  return (await readStatusFile(dir, "task", task)) as unknown as StatusRead<TaskStatus>;
}

export async function readControllerStatus(dir: string): Promise<StatusRead<ControllerStatus>> {
  return (await readStatusFile(dir, "controller", "controller")) as unknown as StatusRead<ControllerStatus>;
}

/** The person-owned approvals of a stage, with the stage's current request (if any). */
export async function readStageApprovals(dir: string, stage: string): Promise<ApprovalsLocation & { readonly file: string; readonly approvalRequest: StageStatus["approvalRequest"] | null }> {
  const read = await readStageStatus(dir, stage);
  return { ...read.approvals, file: read.file, approvalRequest: read.status?.approvalRequest ?? null };
}

export interface WriteResult {
  /** False when the file already had exactly these bytes (nothing was written). */
  readonly changed: boolean;
  readonly file: string;
}

function withoutUndefined(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}

/** The last YAML rendered per status file, by the JSON of its document: a pass that changes nothing renders nothing. */
const rendered = new Map<string, { readonly json: string; readonly yaml: string }>();

function body(kind: StatusKind, name: string, fields: Record<string, unknown>): string {
  const doc = withoutUndefined({ apiVersion: "gaffer/v1", kind: KIND_NAMES[kind], metadata: { name }, ...fields });
  const json = JSON.stringify(doc);
  const key = `${kind}/${name}`;
  const last = rendered.get(key);
  if (last?.json === json) return last.yaml;
  const yaml = stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false });
  rendered.set(key, { json, yaml });
  return yaml;
}

export async function writeStageStatus(dir: string, stage: string, status: StageStatus): Promise<WriteResult> {
  const fields = { observedGeneration: status.observedGeneration, phase: status.phase, conditions: status.conditions, details: status.details, proposal: status.proposal, approvalRequest: status.approvalRequest };
  const fresh = status.approvalRequest === undefined ? "" : "\napprovals: []\n";
  return writeStatusFile(dir, "stage", stage, body("stage", stage, fields), fresh);
}

export async function writeTaskStatus(dir: string, task: string, status: TaskStatus): Promise<WriteResult> {
  const fields = { observedGeneration: status.observedGeneration, phase: status.phase, conditions: status.conditions, details: status.details };
  return writeStatusFile(dir, "task", task, body("task", task, fields), "");
}

export async function writeControllerStatus(dir: string, status: ControllerStatus): Promise<WriteResult> {
  const fields = {
    observedGeneration: status.observedGeneration,
    phase: status.phase,
    lastAttemptedRevision: status.lastAttemptedRevision,
    lastAppliedRevision: status.lastAppliedRevision,
    sourceDirty: status.sourceDirty,
    conditions: status.conditions,
    manifestErrors: status.manifestErrors,
    details: status.details,
  };
  return writeStatusFile(dir, "controller", "controller", body("controller", "controller", fields), "");
}

const MAX_ATTEMPTS = 5;

/**
 * Header + controller body + the file's current approvals block (or `fresh`
 * when it has none). If the file changes between our read and the rename (a
 * person saving an approval), the write is redone from the new text, so the
 * person's edit is never lost to a stale read.
 */
async function writeStatusFile(dir: string, kind: StatusKind, name: string, controllerYaml: string, fresh: string): Promise<WriteResult> {
  const file = statusFilePath(kind, name);
  const path = join(dir, file);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
    const current = await readStatusFile(dir, kind, name);
    const next = statusHeader(kind, name) + controllerYaml + (current.approvals.block ?? fresh);
    if (next === current.text) return { changed: false, file };
    const tmp = await writeTemp(path, next);
    if ((await readText(path)) !== current.text) {
      await rm(tmp, { force: true });
      continue;
    }
    await rename(tmp, path);
    lastRead.delete(path);
    return { changed: true, file };
  }
  throw new StatusFileInvalidError(`${file} kept changing while gaffer rewrote it (${MAX_ATTEMPTS} attempts); retry when nobody is editing it`);
}

async function writeTemp(path: string, text: string): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  const handle = await open(tmp, "wx");
  try {
    await handle.writeFile(text, "utf8");
    await handle.sync();
  } finally {
    await handle.close();
  }
  return tmp;
}

/**
 * Appends one entry to a stage file's `approvals:` list (see
 * core/status-text.ts: every other byte is kept), atomically. Returns the
 * text before and after, so a caller can put the old text back.
 */
export async function appendStageApproval(dir: string, stage: string, entry: Parameters<typeof appendApprovalText>[2]): Promise<{ readonly file: string; readonly before: string; readonly after: string }> {
  const file = statusFilePath("stage", stage);
  const path = join(dir, file);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
    const before = await readText(path);
    if (before === null) throw new StatusFileInvalidError(`${file} does not exist`);
    const after = appendApprovalText(before, statusHeader("stage", stage), entry);
    const tmp = await writeTemp(path, after);
    if ((await readText(path)) !== before) {
      await rm(tmp, { force: true });
      continue;
    }
    await rename(tmp, path);
    lastRead.delete(path);
    return { file, before, after };
  }
  throw new StatusFileInvalidError(`${file} kept changing while gaffer edited it (${MAX_ATTEMPTS} attempts); retry`);
}

/** Puts back `before` if the file still holds `after` (undoing appendStageApproval after a failed commit). */
export async function restoreStatusText(dir: string, file: string, before: string, after: string): Promise<void> {
  const path = join(dir, file);
  if ((await readText(path)) !== after) return;
  await rename(await writeTemp(path, before), path);
  lastRead.delete(path);
}

/** Manifest issues as controller.yaml lists them (`file:line:col` plus `Kind/name: message`). */
export function toManifestErrors(issues: readonly ManifestIssue[]): ManifestErrorEntry[] {
  return issues.map((i) => ({ file: i.file, line: i.line, column: i.column, message: `${i.kind === null ? "" : `${i.kind}/${i.name ?? "?"}: `}${i.message}` }));
}
