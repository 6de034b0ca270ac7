import type { ConditionUpdate } from "./conditions.js";
import type { ProjectConfig } from "./project-config.js";
import type { ApprovalDecision, ApprovalEntry, ApprovalRequest, ConditionStatus, MalformedApprovalEntry } from "./status-types.js";

/**
 * The four approval rules of DESIGN.md section 4 as a pure function over facts
 * read from git (controller/governance/approvals.ts gathers them).
 */

export type EntryVerdict = "Granted" | "Rejected" | "Stale" | "Unauthorized" | "Uncommitted" | "SelfApproval" | "Unsigned" | "AgentCommit" | "NotStatusOnly";
/** `NoEligibleApprover`: every listed approver authored the manifests (preventSelfApproval), so no approval can count. */
export type ApprovedReason = "Pending" | "NoEligibleApprover" | EntryVerdict;

/** The commit that added an entry, from `git blame`. */
export interface ApprovalCommit {
  readonly sha: string;
  readonly authorEmail: string;
  readonly authorName: string;
  /** Values of its `Gaffer-Session:` trailers (a commit made for an agent session). */
  readonly sessionTrailers?: readonly string[];
  /** Values of its `Gaffer-Task:` trailers (task work, or a merge/squash of it). */
  readonly taskTrailers?: readonly string[];
  /** Number of parents (an approval commit is a plain commit: exactly one, or none for a root). */
  readonly parents?: number;
  /** Paths the commit changed, relative to the control dir ("../x" when outside it). */
  readonly files?: readonly string[];
}

/** What git says about one entry. */
export interface EntryFacts {
  readonly entry: ApprovalEntry;
  /** Null when a line of the entry is not committed (a dirty edit). */
  readonly commit: ApprovalCommit | null;
  /** `git verify-commit` of that commit; null when signatures are not required or there is no commit. */
  readonly signature: { readonly valid: boolean; readonly detail: string; readonly signer: string | null } | null;
}

export type ApprovalPolicy = Pick<ProjectConfig["policy"], "approvers" | "preventSelfApproval" | "requireSignedApprovals" | "allowedSignersFile"> & Partial<Pick<ProjectConfig["policy"], "agentAuthor">>;

export interface ApprovalRulesInput {
  readonly stage: string;
  /** The stage's status file, relative to the control dir (for messages). */
  readonly file: string;
  readonly request: ApprovalRequest;
  readonly policy: ApprovalPolicy;
  readonly facts: readonly EntryFacts[];
  readonly malformed?: readonly MalformedApprovalEntry[];
  /** Author of the latest commit that changed manifests/ (the change being approved). */
  readonly manifestAuthor: { readonly email: string; readonly sha: string } | null;
}

export interface EntryJudgement {
  readonly requestId: string;
  readonly decision: ApprovalDecision;
  readonly comment: string | null;
  readonly line: number;
  readonly commit: ApprovalCommit | null;
  readonly verdict: EntryVerdict;
  /** Why, and what to do. */
  readonly message: string;
}

export interface ApprovalJudgement {
  readonly requestId: string;
  /** The `Approved` condition. */
  readonly status: ConditionStatus;
  readonly reason: ApprovedReason;
  readonly message: string;
  /** One per well-formed entry, in file order. */
  readonly verdicts: readonly EntryJudgement[];
  /** Distinct approvers whose approvals count (lowercased emails). */
  readonly approvers: readonly string[];
}

const short = (sha: string): string => sha.slice(0, 7);
const sameEmail = (a: string, b: string): boolean => a.trim().toLowerCase() === b.trim().toLowerCase();

function judgeEntry(input: ApprovalRulesInput, facts: EntryFacts): { verdict: EntryVerdict; message: string } {
  const { entry, commit } = facts;
  const { policy, request, file } = input;
  if (commit === null) return { verdict: "Uncommitted", message: `uncommitted approval: commit it (\`git add ${file} && git commit\`); a dirty edit is not an approval` };
  const by = `${commit.authorEmail} (commit ${short(commit.sha)})`;
  if (entry.requestId !== request.id) return { verdict: "Stale", message: `answers request ${entry.requestId}, but the plan changed and the current request is ${request.id}: review the new proposal and answer ${request.id}` };
  const forged = agentCommitProblem(policy, commit);
  if (forged !== null) return { verdict: "AgentCommit", message: `${by} ${forged}; an approval counts only when a person commits it (\`gaffer approve ${input.stage}\` from their own shell)` };
  const mixed = mixedCommitProblem(commit);
  if (mixed !== null) return { verdict: "NotStatusOnly", message: `${by} ${mixed}; an approval commit changes only status files (\`gaffer approve ${input.stage}\` makes exactly that commit)` };
  if (!policy.approvers.some((a) => sameEmail(a, commit.authorEmail))) {
    const list = policy.approvers.length === 0 ? "none are configured" : policy.approvers.join(", ");
    return { verdict: "Unauthorized", message: `committed by ${by}, who is not in policy.approvers (${list}): an approver must commit it, or add ${commit.authorEmail} to policy.approvers` };
  }
  if (policy.requireSignedApprovals) {
    if (policy.allowedSignersFile === null) return { verdict: "Unsigned", message: `policy.requireSignedApprovals is true but policy.allowedSignersFile is not set: set it to the allowed-signers file of the approvers' keys` };
    if (facts.signature?.valid !== true) {
      const detail = facts.signature?.detail ? ` (${facts.signature.detail})` : "";
      return { verdict: "Unsigned", message: `${by} is not signed by a key in ${policy.allowedSignersFile}${detail}: sign the approval commit (\`git commit -S\`, or \`gaffer approve --sign\`) with a key listed there` };
    }
    const signer = facts.signature.signer;
    if (signer === null || !sameEmail(signer, commit.authorEmail)) {
      return { verdict: "Unsigned", message: `${by} is signed with the key of ${signer ?? "an unknown signer"}, not of its author: the author must sign it with their own key listed in ${policy.allowedSignersFile}` };
    }
  }
  if (entry.decision === "approved" && policy.preventSelfApproval && input.manifestAuthor !== null && sameEmail(input.manifestAuthor.email, commit.authorEmail)) {
    return { verdict: "SelfApproval", message: `${commit.authorEmail} authored the manifest change being approved (commit ${short(input.manifestAuthor.sha)}) and cannot approve it (policy.preventSelfApproval): another approver must` };
  }
  if (entry.decision === "rejected") return { verdict: "Rejected", message: `rejected by ${by}${entry.comment === null ? "" : `: ${JSON.stringify(entry.comment)}`}; the stage fails: change the plan (manifests) to get a new approval request` };
  return { verdict: "Granted", message: `approved by ${by}` };
}

/** Whether `email` is an agent identity: the policy's agent author pattern, or any address at gaffer.invalid. */
export function isAgentEmail(policy: Pick<ApprovalPolicy, "agentAuthor">, email: string): boolean {
  const lower = email.trim().toLowerCase();
  if (lower.endsWith("@gaffer.invalid")) return true;
  const template = policy.agentAuthor?.email;
  if (template === undefined) return false;
  const pattern = template.toLowerCase().split(/\{(?:session|agent)\}/).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("[^@\\s]*");
  return new RegExp(`^${pattern}$`).test(lower);
}

/** Why a commit is an agent's (a session or task trailer, an agent author), or null for a person's commit. */
function agentCommitProblem(policy: ApprovalPolicy, commit: ApprovalCommit): string | null {
  const session = commit.sessionTrailers ?? [];
  if (session.length > 0) return `carries a Gaffer-Session: ${session[0]} trailer (made for an agent session)`;
  const task = commit.taskTrailers ?? [];
  if (task.length > 0) return `carries a Gaffer-Task: ${task[0]} trailer (task work or its merge)`;
  if (isAgentEmail(policy, commit.authorEmail)) return `is authored by the agent identity ${commit.authorName} <${commit.authorEmail}>`;
  return null;
}

/** Why a commit is more than an approval (a merge, or files outside status/), or null. */
function mixedCommitProblem(commit: ApprovalCommit): string | null {
  if ((commit.parents ?? 1) > 1) return "is a merge commit";
  const other = (commit.files ?? []).filter((f) => !f.startsWith("status/"));
  if (other.length > 0) return `also changes ${other.slice(0, 3).join(", ")}${other.length > 3 ? ` and ${other.length - 3} more` : ""}`;
  return null;
}

/** Pure: each entry's verdict and the stage's `Approved` condition. */
export function judgeApprovals(input: ApprovalRulesInput): ApprovalJudgement {
  const verdicts: EntryJudgement[] = input.facts.map((facts) => {
    const { verdict, message } = judgeEntry(input, facts);
    const { entry } = facts;
    return { requestId: entry.requestId, decision: entry.decision, comment: entry.comment, line: entry.lines[0], commit: facts.commit, verdict, message: `${input.file}:${entry.lines[0]}: ${message}` };
  });
  const approvers = [...new Set(verdicts.filter((v) => v.verdict === "Granted").map((v) => v.commit!.authorEmail.trim().toLowerCase()))];
  const base = { requestId: input.request.id, verdicts, approvers };
  const rejections = verdicts.filter((v) => v.verdict === "Rejected");
  if (rejections.length > 0) return { ...base, status: "False", reason: "Rejected", message: rejections.map((v) => v.message).join("; ") };
  const required = input.request.requiredApprovals;
  if (approvers.length >= required) return { ...base, status: "True", reason: "Granted", message: `request ${input.request.id} approved by ${approvers.join(", ")} (${approvers.length} of ${required} required)` };
  return { ...base, status: "False", ...pendingReason(input, verdicts, approvers.length) };
}

function pendingReason(input: ApprovalRulesInput, verdicts: readonly EntryJudgement[], granted: number): { reason: ApprovedReason; message: string } {
  const required = input.request.requiredApprovals;
  const refused = verdicts.filter((v) => v.verdict !== "Granted");
  const current = refused.filter((v) => v.requestId === input.request.id);
  const waiting = `request ${input.request.id} has ${granted} of ${required} required approval${required === 1 ? "" : "s"}: ${whoCanApprove(input)}`;
  const notes = [...refused.map((v) => v.message), ...(input.malformed ?? []).map((m) => `${input.file}:${m.lines[0]}: ignored: ${m.problem}`)];
  const message = [waiting, ...notes].join("; ");
  if (!hasEligibleApprover(input)) return { reason: "NoEligibleApprover", message };
  if (current.length > 0) return { reason: current[current.length - 1]!.verdict, message };
  if (granted === 0 && refused.length > 0) return { reason: refused[refused.length - 1]!.verdict, message };
  return { reason: "Pending", message };
}

/**
 * Who can still give an approval that counts, and how. With
 * preventSelfApproval the manifests' author is left out; when nobody is left,
 * the choices are named instead of a command that cannot count.
 */
export function whoCanApprove(input: Pick<ApprovalRulesInput, "policy" | "manifestAuthor" | "stage">): string {
  const author = input.policy.preventSelfApproval ? input.manifestAuthor : null;
  const eligible = eligibleApprovers(input);
  if (input.policy.approvers.length === 0) return "no approver is listed: add approver emails to spec.policy.approvers";
  if (eligible.length === 0) {
    return `the only approver${input.policy.approvers.length === 1 ? "" : "s"} (${input.policy.approvers.join(", ")}) committed the manifests (${short(author!.sha)}) and cannot approve them (policy.preventSelfApproval): add a second approver to spec.policy.approvers, or set preventSelfApproval: false for a solo project`;
  }
  return `an approver (${eligible.join(", ")}) runs \`gaffer approve ${input.stage}\``;
}

function eligibleApprovers(input: Pick<ApprovalRulesInput, "policy" | "manifestAuthor">): string[] {
  const author = input.policy.preventSelfApproval ? input.manifestAuthor : null;
  return input.policy.approvers.filter((a) => author === null || !sameEmail(a, author.email));
}

function hasEligibleApprover(input: Pick<ApprovalRulesInput, "policy" | "manifestAuthor">): boolean {
  return input.policy.approvers.length > 0 && eligibleApprovers(input).length > 0;
}

/** The `Approved` condition for `setCondition`. */
export function approvedCondition(judgement: ApprovalJudgement, observedGeneration: string): ConditionUpdate {
  return { type: "Approved", status: judgement.status, reason: judgement.reason, message: judgement.message, observedGeneration };
}
