import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { runGit } from "../governance/git-cli.js";
import { statusFilePath } from "../status/status-store.js";

/**
 * Remembers each stage's approval judgement while nothing it depends on
 * changed: the stage's status file (working copy and blob at HEAD), the
 * manifests tree (self-approval), `.mailmap` and the policy. One
 * `git ls-tree` per pass replaces three git calls per stage, so a pass after
 * a commit re-judges only the stages whose approvals it touched, and an
 * approval commit starts its stage about one pass after the commit.
 */
export class ApprovalMemo<T> {
  private readonly memo = new Map<string, { readonly key: string; readonly value: T }>();
  private tree: Promise<string> | null = null;

  constructor(private readonly dir: string) {}

  /** Call once per pass: the HEAD tree entries are read again on the next lookup. */
  reset(): void {
    this.tree = null;
  }

  /** The remembered value for `stage` when its inputs are unchanged, else `compute()` (remembered). */
  async get(stage: string, extra: string, compute: () => Promise<T>): Promise<T> {
    const key = await this.key(stage, extra);
    const hit = this.memo.get(stage);
    if (hit !== undefined && hit.key === key) return hit.value;
    const value = await compute();
    this.memo.set(stage, { key, value });
    return value;
  }

  private async key(stage: string, extra: string): Promise<string> {
    this.tree ??= runGit(this.dir, ["ls-tree", "HEAD", "--", "manifests", ".mailmap", "status/stages/"], { check: false }).then((r) => (r.exitCode === 0 ? r.stdout : `no HEAD ${Date.now()}`));
    const text = await readFile(join(this.dir, statusFilePath("stage", stage)), "utf8").catch(() => "");
    return createHash("sha256").update(await this.tree).update("\0").update(text).update("\0").update(extra).digest("hex");
  }
}
