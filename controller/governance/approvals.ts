import { isAbsolute, join } from "node:path";
import { judgeApprovals, type ApprovalCommit, type ApprovalJudgement, type ApprovalPolicy, type EntryFacts } from "../core/approval-rules.js";
import type { ApprovalEntry, ApprovalRequest } from "../core/status-types.js";
import { readStageApprovals } from "../status/status-store.js";
import { parseBlamePorcelain, runGit, type BlameLine } from "./git-cli.js";

/**
 * Reads what git says about a stage's approvals (who committed each entry,
 * whether that commit is signed, who changed the manifests last) and applies
 * the pure rules of core/approval-rules.ts.
 */

export interface EvaluateApprovalsInput {
  /** The control dir (inside a git work tree). */
  readonly dir: string;
  readonly stage: string;
  readonly policy: ApprovalPolicy;
  /** The current request; defaults to the one in the stage's status file. */
  readonly request?: ApprovalRequest;
}

/**
 * Judges the stage's `approvals:` entries against git and the policy. Returns
 * null when there is no request to answer (no `request` given and none in
 * the status file).
 */
export async function evaluateApprovals(input: EvaluateApprovalsInput): Promise<ApprovalJudgement | null> {
  const read = await readStageApprovals(input.dir, input.stage);
  const request = input.request ?? read.approvalRequest;
  if (request === null || request === undefined) return null;
  const blame = read.entries.length === 0 ? new Map<number, BlameLine>() : await blameFile(input.dir, read.file);
  const signatures = new Map<string, ReturnType<typeof verifyCommit>>();
  const facts: EntryFacts[] = [];
  for (const entry of read.entries) {
    const commit = entryCommit(entry, blame);
    let signature: EntryFacts["signature"] = null;
    if (commit !== null && input.policy.requireSignedApprovals && input.policy.allowedSignersFile !== null) {
      const signersFile = isAbsolute(input.policy.allowedSignersFile) ? input.policy.allowedSignersFile : join(input.dir, input.policy.allowedSignersFile);
      if (!signatures.has(commit.sha)) signatures.set(commit.sha, verifyCommit(input.dir, commit.sha, signersFile));
      signature = await signatures.get(commit.sha)!;
    }
    facts.push({ entry, commit, signature });
  }
  const manifestAuthor = input.policy.preventSelfApproval ? await latestManifestAuthor(input.dir) : null;
  return judgeApprovals({ stage: input.stage, file: read.file, request, policy: input.policy, facts, malformed: read.malformed, manifestAuthor });
}

/**
 * Blame of the working-tree file against HEAD; an untracked file or a dir
 * outside git blames as all uncommitted. NOTE: blame applies `.mailmap` to
 * author emails (and honours blame.ignoreRevsFile), either of which a
 * committer could use to pass as an approver, so ignore-revs is switched off
 * and the raw author emails are read again with `%ae`.
 */
export async function blameFile(dir: string, file: string): Promise<Map<number, BlameLine & Partial<CommitFacts>>> {
  const result = await runGit(dir, ["-c", "blame.ignoreRevsFile=", "blame", "--porcelain", "--", file], { check: false });
  if (result.exitCode !== 0) return new Map();
  const lines = parseBlamePorcelain(result.stdout);
  const shas = [...new Set([...lines.values()].filter((l) => l.committed).map((l) => l.sha))];
  if (shas.length === 0) return lines;
  const facts = await commitFacts(dir, shas);
  return new Map([...lines].map(([n, l]) => [n, l.committed ? { ...l, ...(facts.get(l.sha) ?? { authorEmail: "", authorName: "" }) } : l]));
}

/** What decides whether a commit can be a person's approval: raw author, trailers, parents and the files it changed (relative to `dir`). */
export type CommitFacts = Pick<BlameLine, "authorEmail" | "authorName"> & Required<Pick<ApprovalCommit, "sessionTrailers" | "taskTrailers" | "parents" | "files">>;

const FORMAT = "%H%x00%ae%x00%an%x00%P%x00%(trailers:key=Gaffer-Session,valueonly,separator=%x2C)%x00%(trailers:key=Gaffer-Task,valueonly,separator=%x2C)%x00";

async function commitFacts(dir: string, shas: readonly string[]): Promise<Map<string, CommitFacts>> {
  const prefix = (await runGit(dir, ["rev-parse", "--show-prefix"])).stdout.trim();
  const raw = await runGit(dir, ["show", "-s", `--format=${FORMAT}`, ...shas]);
  const facts = new Map<string, CommitFacts>();
  for (const record of raw.stdout.split("\0\n").filter((r) => r.trim() !== "")) {
    const [sha, email, name, parents, session, task] = record.replace(/^\n+/, "").split("\0");
    const list = (v: string | undefined): string[] => (v ?? "").split(",").map((x) => x.trim()).filter((x) => x !== "");
    const changed = await runGit(dir, ["diff-tree", "-r", "--no-commit-id", "--name-only", "-z", "--root", sha!]);
    const files = changed.stdout.split("\0").filter((f) => f !== "").map((f) => (f.startsWith(prefix) ? f.slice(prefix.length) : `../${f}`));
    facts.set(sha!, { authorEmail: email ?? "", authorName: name ?? "", parents: list(parents?.replace(/ /g, ",")).length, sessionTrailers: list(session), taskTrailers: list(task), files });
  }
  return facts;
}

/**
 * The commit an entry counts as: every line of it must be committed (else
 * null: uncommitted); when its lines come from several commits, the last one
 * to change it is responsible for it (fail-safe: editing someone's approval
 * makes it yours).
 */
function entryCommit(entry: ApprovalEntry, blame: ReadonlyMap<number, BlameLine>): ApprovalCommit | null {
  const lines: BlameLine[] = [];
  for (let n = entry.lines[0]; n <= entry.lines[1]; n += 1) {
    const line = blame.get(n);
    if (line === undefined || !line.committed) return null;
    lines.push(line);
  }
  const latest = lines.reduce<BlameLine | undefined>((best, l) => (best === undefined || l.committerTime > best.committerTime ? l : best), undefined);
  if (latest === undefined) return null;
  const { sha, authorEmail, authorName, sessionTrailers, taskTrailers, parents, files } = latest as BlameLine & Partial<CommitFacts>;
  return { sha, authorEmail, authorName, ...(sessionTrailers === undefined ? {} : { sessionTrailers, taskTrailers: taskTrailers ?? [], parents: parents ?? 1, files: files ?? [] }) };
}

/**
 * `git verify-commit` against an allowed-signers file. `signer` is the
 * principal (email) whose key made the signature, so the rules can require it
 * to be the commit's author (git alone accepts any allowed key).
 */
export async function verifyCommit(dir: string, sha: string, allowedSignersFile: string): Promise<{ valid: boolean; detail: string; signer: string | null }> {
  const result = await runGit(dir, ["-c", `gpg.ssh.allowedSignersFile=${allowedSignersFile}`, "verify-commit", sha], { check: false });
  const text = `${result.stderr}\n${result.stdout}`.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  if (result.exitCode !== 0) return { valid: false, detail: text[text.length - 1] ?? "the commit has no signature", signer: null };
  const good = text.find((l) => l.startsWith("Good ")) ?? text[0] ?? "good signature";
  const signer = /^Good (?:"git" )?signature (?:for|from) "?(?:[^<"]*<)?([^>"\s]+)/.exec(good)?.[1] ?? null;
  return { valid: true, detail: good, signer };
}

/** Author of the latest commit that changed `manifests/` in the control dir, or null when none is committed. */
export async function latestManifestAuthor(dir: string): Promise<{ email: string; sha: string } | null> {
  const result = await runGit(dir, ["log", "-1", "--format=%H%x00%ae", "--", "manifests"], { check: false });
  const [sha, email] = result.stdout.trim().split("\0");
  return result.exitCode === 0 && sha && email ? { sha, email } : null;
}
