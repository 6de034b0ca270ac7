import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { onTestFinished } from "vitest";
import type { ApprovalPolicy } from "../../controller/core/approval-rules.js";
import type { ApprovalRequest, StageStatus } from "../../controller/core/status-types.js";
import { openLedger, type Ledger } from "../../state/ledger.js";
import { appendStageApproval, writeStageStatus } from "../../controller/status/status-store.js";
import { git, gitRepo } from "./git-repo.js";

export const ALICE = "alice@example.com";
export const BOB = "bob@example.com";
export const MALLORY = "mallory@example.com";
export const AUTHOR = "author@example.com";

/** A request for `stage` with a digest made of one repeated hex digit. */
export function requestFor(stage: string, digit: string, requiredApprovals = 1): ApprovalRequest {
  const digest = digit.repeat(64);
  return { id: `${stage}-${digest.slice(0, 12)}`, planDigest: digest, requiredApprovals };
}

export function policyFor(overrides: Partial<ApprovalPolicy> = {}): ApprovalPolicy {
  return { approvers: [ALICE, BOB], preventSelfApproval: true, requireSignedApprovals: false, allowedSignersFile: null, ...overrides };
}

export function stageWith(request: ApprovalRequest, phase = "AwaitingApproval"): StageStatus {
  return { observedGeneration: "gen-1", phase, conditions: [], proposal: { allocation: [], worktrees: [] }, approvalRequest: request };
}

/** `git commit` of `paths` as `email` (optionally ssh-signed with `key`). Returns the new sha. */
export function commitAs(dir: string, email: string, message: string, paths: readonly string[], options: { key?: string } = {}): string {
  git(dir, "add", "--", ...paths);
  const identity = ["-c", `user.email=${email}`, "-c", `user.name=${email.split("@")[0]}`];
  const signing = options.key === undefined ? [] : ["-c", "gpg.format=ssh", "-c", `user.signingkey=${options.key}`];
  git(dir, ...identity, ...signing, "commit", "-q", ...(options.key === undefined ? [] : ["-S"]), "-m", message, "--", ...paths);
  return git(dir, "rev-parse", "HEAD");
}

/**
 * A control dir that is a git repo: `manifests/project.yaml` committed by
 * `manifestAuthor`, and `status/stages/<stage>.yaml` proposing `request`
 * (committed too, as the controller's output would be).
 */
export async function governanceRepo(options: { stage?: string; request: ApprovalRequest; manifestAuthor?: string }): Promise<string> {
  const dir = gitRepo({ email: "dev@example.com" });
  mkdirSync(join(dir, "manifests"), { recursive: true });
  writeFileSync(join(dir, "manifests/project.yaml"), "apiVersion: gaffer/v1\nkind: Project\nmetadata:\n  name: p\nspec:\n  repo: .\n");
  writeFileSync(join(dir, ".gitignore"), ".gaffer/\n");
  commitAs(dir, options.manifestAuthor ?? AUTHOR, "feat: manifests", ["manifests/project.yaml", ".gitignore"]);
  await writeStageStatus(dir, options.stage ?? "build", stageWith(options.request));
  commitAs(dir, "gaffer@example.com", "chore(status): propose", ["status"]);
  return dir;
}

/** Appends an approvals entry to the stage file (uncommitted). */
export async function addEntry(dir: string, stage: string, requestId: string, decision: "approved" | "rejected", comment: string | null = null): Promise<void> {
  await appendStageApproval(dir, stage, { requestId, decision, comment });
}

/** An ed25519 ssh key for `email` and an allowed-signers file listing it. */
export function sshSigner(dir: string, email: string, name = "key"): { readonly key: string; readonly signersLine: string } {
  const key = join(dir, name);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", email, "-f", key]);
  const pub = readFileSync(`${key}.pub`, "utf8").trim().split(" ").slice(0, 2).join(" ");
  return { key, signersLine: `${email} ${pub}` };
}

/** The control dir's ledger, closed when the test finishes. */
export async function ledgerOf(dir: string): Promise<Ledger> {
  const db = await openLedger(join(dir, ".gaffer/ledger.sqlite"));
  onTestFinished(() => db.destroy());
  return db;
}
