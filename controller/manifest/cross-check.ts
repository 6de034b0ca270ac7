import { checkBranchName, checkBranchPattern } from "../core/git-ref.js";
import { MANIFEST_KINDS, type ManifestKind } from "../core/manifest-types.js";
import { stageNeedsApproval } from "../core/project-config.js";
import { checkWorktreeRoot } from "../core/worktree-root.js";
import { ledgerUrlProblem, redactUrl, urlPassword } from "../../state/ledger-target.js";
import { checkRegex, where, type CheckContext, type Report, type SchemaValidDocs } from "./check-context.js";
import { checkAgents, checkStages, checkTasks, type StageInfo } from "./reference-check.js";
import { checkRuntime } from "./runtime-check.js";
import type { ManifestIssue } from "./manifest-issue.js";
import type { ParsedDoc } from "./parse.js";
import { encodePointer } from "./schema-check.js";

export type { SchemaValidDocs, TypedDoc } from "./check-context.js";

/**
 * Checks across documents: one Project, unique names, references that resolve,
 * no cycles, usable roles, valid branch names and regular expressions.
 * References into a kind with rejected documents are not judged, so one typo
 * never produces a cascade of follow-on errors.
 */
export function crossCheck(docs: SchemaValidDocs, manifestsDir: string): ManifestIssue[] {
  const issues: ManifestIssue[] = [];
  const report: Report = (doc, path, code, message, options = {}) => {
    const pos = doc.locate(path, options);
    issues.push({ file: doc.file, ...pos, pointer: encodePointer(path), kind: doc.kind, name: doc.name, code, message });
  };
  const isComplete = (kind: ManifestKind): boolean =>
    !docs.unreadable && !docs.rejected.some((d) => d.kind === kind || !(MANIFEST_KINDS as readonly (string | null)[]).includes(d.kind));
  const ctx: CheckContext = {
    docs,
    report,
    complete: { Project: isComplete("Project"), AgentPool: isComplete("AgentPool"), Playbook: isComplete("Playbook"), Task: isComplete("Task") },
  };
  checkProjectCount(ctx, manifestsDir, issues);
  checkProject(ctx);
  checkDuplicateNames(ctx);
  checkHostNames(ctx);
  const agents = checkAgents(ctx);
  const stages = checkStages(ctx, agents);
  checkTasks(ctx, stages);
  checkApprovers(ctx, stages);
  checkCapacityKeys(ctx, agents, stages);
  checkRuntime(ctx, stages);
  return issues;
}

function checkProjectCount(ctx: CheckContext, manifestsDir: string, issues: ManifestIssue[]): void {
  const all = [...ctx.docs.projects.map((p) => p.doc), ...ctx.docs.rejected.filter((d) => d.kind === "Project")];
  all.sort((a, b) => a.file.localeCompare(b.file) || a.index - b.index);
  const [first, ...rest] = all;
  if (first === undefined) {
    if (!ctx.complete.Project) return;
    issues.push({ file: manifestsDir, line: 0, column: 0, pointer: "", kind: null, name: null, code: "PROJECT_MISSING", message: "no Project document found; exactly one is required (`gaffer init` writes one)" });
    return;
  }
  for (const extra of rest) {
    ctx.report(extra, ["kind"], "PROJECT_DUPLICATE", `a second Project; exactly one is allowed (the first is Project/${first.name ?? "?"} at ${where(first, ["kind"])})`);
  }
}

function checkProject({ docs, report }: CheckContext): void {
  const first = docs.projects[0];
  if (first === undefined) return;
  const { doc, value } = first;
  const policy = value.spec.policy ?? {};
  if (policy.branchPattern !== undefined) {
    const problem = checkBranchPattern(policy.branchPattern);
    if (problem !== null) report(doc, ["spec", "policy", "branchPattern"], "BRANCH_PATTERN_INVALID", `branch pattern ${problem}`);
  }
  for (const field of ["baseBranch", "integrationBranch"] as const) {
    const branch = value.spec[field];
    const problem = branch === undefined ? null : checkBranchName(branch);
    if (problem !== null) report(doc, ["spec", field], "BRANCH_INVALID", `spec.${field} ${JSON.stringify(branch)} is not a valid git branch name: it ${problem}`);
  }
  const rootProblem = value.spec.worktreeRoot === undefined ? null : checkWorktreeRoot(value.spec.worktreeRoot, value.spec.repo);
  if (rootProblem !== null) report(doc, ["spec", "worktreeRoot"], "WORKTREE_ROOT_INVALID", `spec.worktreeRoot ${JSON.stringify(value.spec.worktreeRoot)} ${rootProblem}`);
  const ledgerUrl = value.spec.ledger?.url;
  if (ledgerUrl !== undefined) checkLedgerUrl(ledgerUrl, (code, message) => report(doc, ["spec", "ledger", "url"], code, message));
  if (policy.commitFormat !== undefined) checkRegex(doc, ["spec", "policy", "commitFormat"], policy.commitFormat, report);
  if (policy.requireSignedApprovals === true && policy.allowedSignersFile === undefined) {
    report(doc, ["spec", "policy", "requireSignedApprovals"], "SIGNERS_FILE_MISSING", "requireSignedApprovals is true but policy.allowedSignersFile is not set; name the ssh allowed-signers file");
  }
}

/** A ledger URL must name PostgreSQL and must not carry a password (a committed manifest is no place for a secret). */
function checkLedgerUrl(url: string, report: (code: string, message: string) => void): void {
  const problem = ledgerUrlProblem(url);
  if (problem !== null) report("LEDGER_URL_INVALID", `spec.ledger.url ${JSON.stringify(redactUrl(url))} ${problem}`);
  else if (urlPassword(url) !== null) report("LEDGER_SECRET_IN_MANIFEST", `spec.ledger.url ${JSON.stringify(redactUrl(url))} holds a password, and manifests are committed; remove it from the URL and give it through the environment (PGPASSWORD, ~/.pgpass, or the whole URL in GAFFER_LEDGER_URL)`);
}

/** Too few approvers matters only when some stage needs an approval. */
function checkApprovers({ docs, report, complete }: CheckContext, stages: ReadonlyMap<string, StageInfo>): void {
  const first = docs.projects[0];
  if (first === undefined || !complete.Playbook || ![...stages.values()].some((s) => stageNeedsApproval(s.stage))) return;
  const policy = first.value.spec.policy ?? {};
  const approvers = policy.approvers ?? [];
  const required = policy.requiredApprovals ?? 1;
  if (approvers.length >= required) return;
  const path = policy.approvers === undefined ? ["spec", "policy"] : ["spec", "policy", "approvers"];
  const setting = `requiredApprovals is ${required}${policy.requiredApprovals === undefined ? " (the default)" : ""}`;
  report(first.doc, path, "APPROVERS_TOO_FEW", `${setting} but policy.approvers lists ${approvers.length} email${approvers.length === 1 ? "" : "s"}: no stage that needs approval could ever start; add approver emails`);
}

function checkDuplicateNames({ docs, report }: CheckContext): void {
  for (const group of [docs.agentPools, docs.playbooks, docs.tasks]) {
    const seen = new Map<string, ParsedDoc>();
    for (const { doc, value } of group) {
      const first = seen.get(value.metadata.name);
      if (first === undefined) seen.set(value.metadata.name, doc);
      else report(doc, ["metadata", "name"], "NAME_DUPLICATE", `duplicate name: ${value.kind}/${value.metadata.name} is also defined at ${where(first, ["metadata", "name"])}`);
    }
  }
}

/** Host names are one namespace across every AgentPool (they key the `host` capacity scope). */
function checkHostNames({ docs, report }: CheckContext): void {
  const seen = new Map<string, string>();
  for (const { doc, value } of docs.agentPools) {
    for (const [i, host] of (value.spec.hosts ?? []).entries()) {
      const first = seen.get(host.name);
      if (first === undefined) seen.set(host.name, where(doc, ["spec", "hosts", i, "name"]));
      else report(doc, ["spec", "hosts", i, "name"], "HOST_DUPLICATE", `host "${host.name}" is defined twice (first at ${first}); host names are unique across AgentPools`);
    }
  }
}

function checkCapacityKeys({ docs, report, complete }: CheckContext, agents: ReadonlySet<string>, stages: ReadonlyMap<string, StageInfo>): void {
  const project = docs.projects[0];
  if (project === undefined) return;
  const capacity = project.value.spec.capacity ?? {};
  const known = (names: Iterable<string>): string => [...names].join(", ") || "none";
  for (const agent of Object.keys(capacity.perAgent ?? {})) {
    if (complete.AgentPool && !agents.has(agent)) {
      report(project.doc, ["spec", "capacity", "perAgent", agent], "UNKNOWN_AGENT", `capacity.perAgent names unknown agent "${agent}" (known: ${known(agents)})`, { key: true });
    }
  }
  const roles = new Set([...stages.values()].flatMap((s) => s.stage.roles.map((r) => r.name)));
  for (const role of Object.keys(capacity.perRole ?? {})) {
    if (complete.Playbook && !roles.has(role)) {
      report(project.doc, ["spec", "capacity", "perRole", role], "UNKNOWN_ROLE", `capacity.perRole names unknown role "${role}" (known: ${known(roles)})`, { key: true });
    }
  }
}
