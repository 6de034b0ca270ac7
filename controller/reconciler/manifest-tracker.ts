import { readGitBytes, runGit } from "../governance/git-cli.js";
import type { ManifestSet } from "../core/manifest-types.js";
import type { ManifestErrorEntry } from "../core/status-types.js";
import { readManifestSources } from "../manifest/load.js";
import { formatManifestIssue } from "../manifest/manifest-issue.js";
import { validateManifests, type ManifestSource as ManifestFile } from "../manifest/validate.js";
import { MAX_FILE_BYTES } from "../adapters/bounded-read.js";
import { appendEvent, listEvents } from "../../state/events.repository.js";
import type { Ledger } from "../../state/ledger.js";
import { gitPlacesOf, sourceFingerprint, type GitPlaces } from "./source-fingerprint.js";

/** Where the manifests came from in the control repo. */
export interface ManifestSource {
  /** Control-repo HEAD, or null when the control dir is not a git repo. */
  readonly revision: string | null;
  /** Whether manifests/ differs from HEAD. */
  readonly dirty: boolean;
}

export interface ManifestState {
  /** The last valid set: what the controller reconciles toward. */
  readonly applied: ManifestSet | null;
  readonly appliedRevision: string | null;
  readonly attempted: ManifestSource;
  /** Problems of the last attempted set, empty when it was applied. */
  readonly errors: readonly ManifestErrorEntry[];
}

/** The manifests as committed at HEAD (strict GitOps: `policy.requireCommittedManifests`); same limits as the working tree. */
async function readCommittedSources(dir: string): Promise<ManifestFile[]> {
  const list = await runGit(dir, ["ls-tree", "-r", "-l", "HEAD", "--", "manifests"], { check: false });
  if (list.exitCode !== 0) return [];
  const entries = list.stdout.split("\n").map((line) => /^(\d+) \w+ \w+\s+(-|\d+)\t(.*)$/.exec(line)).filter((m) => m !== null && /\.ya?ml$/.test(m[3]!));
  return Promise.all(
    entries.map(async (m): Promise<ManifestFile> => {
      const [mode, size, file] = [m![1]!, Number(m![2]), m![3]!];
      const empty = new Uint8Array();
      if (mode !== "100644" && mode !== "100755") return { file, bytes: empty, problem: { code: "FILE_NOT_REGULAR", message: "file is committed as a symlink or submodule, not a regular file; commit the file itself" } };
      if (size > MAX_FILE_BYTES) return { file, bytes: empty, problem: { code: "FILE_TOO_LARGE", message: `file is larger than ${MAX_FILE_BYTES / (1024 * 1024)} MiB, the limit for one file; split it into several files` } };
      return { file, bytes: await readGitBytes(dir, ["show", `HEAD:./${file}`]) };
    }),
  );
}

async function readSource(dir: string): Promise<ManifestSource> {
  const head = await runGit(dir, ["rev-parse", "--verify", "-q", "HEAD"], { check: false });
  if (head.exitCode !== 0) return { revision: null, dirty: true };
  const status = await runGit(dir, ["status", "--porcelain", "--", "manifests"], { check: false });
  return { revision: head.stdout.trim(), dirty: status.stdout.trim() !== "" };
}

/**
 * Loads and validates the manifests each pass. An invalid set is never
 * applied: the last valid one stays, the problems are kept for
 * status/controller.yaml and recorded once as a `ManifestRejected` event;
 * fixing the files recovers on the next pass.
 */
export class ManifestTracker {
  private state: ManifestState = { applied: null, appliedRevision: null, attempted: { revision: null, dirty: false }, errors: [] };
  private lastRejected = "";
  private lastApplied: string | null | undefined;
  /** The control repo's git directories (found on the first refresh; null: not a git repo, nothing is skipped). */
  private places: GitPlaces | null | undefined;
  /** The source fingerprint of the last refresh that completed. */
  private lastInputs: string | null = null;

  /** `now`: the time files' changes are judged against (racy when under 2 s old). */
  constructor(private readonly dir: string, private readonly db: Ledger, private readonly actor: string, private readonly now: () => number = Date.now) {}

  get current(): ManifestState {
    return this.state;
  }

  /**
   * Re-reads the files; returns true when the applied set changed. Files and
   * git state that did not change since the last refresh (by their stat
   * fingerprint) are not read again: the answer would be the same.
   */
  async refresh(): Promise<boolean> {
    this.places ??= await gitPlacesOf(this.dir);
    const inputs = this.places === null ? null : sourceFingerprint(this.dir, this.places, this.now());
    if (inputs !== null && inputs === this.lastInputs) return false;
    const changed = await this.reload();
    this.lastInputs = inputs;
    return changed;
  }

  private async reload(): Promise<boolean> {
    const attempted = await readSource(this.dir);
    let result = validateManifests(await readManifestSources(this.dir));
    // Strict GitOps: with requireCommittedManifests (as the working tree, or else the applied set, says),
    // only what is committed at HEAD is applied; working-tree edits show as sourceDirty.
    const strict = result.valid ? result.set.project.spec.policy?.requireCommittedManifests === true : this.state.applied?.project.spec.policy?.requireCommittedManifests === true;
    if (strict) result = validateManifests(await readCommittedSources(this.dir));
    if (!result.valid) {
      const errors = result.issues.map((i) => ({ file: i.file, line: i.line, column: i.column, message: formatManifestIssue(i) }));
      const fingerprint = errors.map((e) => e.message).join("\n");
      if (fingerprint !== this.lastRejected) {
        this.lastRejected = fingerprint;
        await appendEvent(this.db, { actor: this.actor, action: "ManifestRejected", subject: "controller", payload: { revision: attempted.revision, issues: errors.map((e) => e.message), keeping: this.state.applied?.generation ?? null }, commitSha: attempted.revision });
      }
      this.state = { ...this.state, attempted, errors };
      return false;
    }
    this.lastRejected = "";
    // After a restart, the ledger remembers what was applied: re-applying the same set is not news.
    this.lastApplied ??= ((await listEvents(this.db, { action: "ManifestApplied", limit: 1 }))[0]?.payload.generation as string | undefined) ?? null;
    const changed = this.state.applied?.generation !== result.set.generation;
    if (this.lastApplied !== result.set.generation) {
      // Recorded first: a set the ledger cannot record (LEDGER_DISK_FULL...) is not applied, and is retried.
      await appendEvent(this.db, { actor: this.actor, action: "ManifestApplied", subject: "controller", payload: { generation: result.set.generation, revision: attempted.revision, dirty: attempted.dirty, set: result.set }, commitSha: attempted.revision });
      this.lastApplied = result.set.generation;
    }
    this.state = { applied: result.set, appliedRevision: attempted.revision, attempted, errors: [] };
    return changed;
  }
}
