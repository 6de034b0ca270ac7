import { checkBranchName, checkBranchPattern } from "../core/git-ref.js";
import type { AgentPoolManifest, PlaybookManifest, ProjectManifest, StageSpec, TaskManifest } from "../core/manifest-types.js";
import type { ManifestIssue } from "./manifest-issue.js";
import type { DocPath, ParsedDoc } from "./parse.js";
import { encodePointer } from "./schema-check.js";

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
}

type Report = (doc: ParsedDoc, path: DocPath, code: string, message: string, options?: { key?: boolean }) => void;

function where(doc: ParsedDoc, path: DocPath): string {
  const pos = doc.locate(path);
  return `${doc.file}:${pos.line}:${pos.column}`;
}

/**
 * Checks across documents: one Project, unique names, references that resolve,
 * no cycles, usable roles, valid branch names and regular expressions.
 */
export function crossCheck(docs: SchemaValidDocs, manifestsDir: string): ManifestIssue[] {
  const issues: ManifestIssue[] = [];
  const report: Report = (doc, path, code, message, options = {}) => {
    const pos = doc.locate(path, options);
    issues.push({ file: doc.file, ...pos, pointer: encodePointer(path), kind: doc.kind, name: doc.name, code, message });
  };
  checkProjects(docs, manifestsDir, issues, report);
  checkDuplicateNames(docs, report);
  const agents = checkAgents(docs, report);
  const stages = checkStages(docs, agents, report);
  checkTasks(docs, stages, report);
  checkCapacityKeys(docs, agents, stages, report);
  return issues;
}

function checkProjects(docs: SchemaValidDocs, manifestsDir: string, issues: ManifestIssue[], report: Report): void {
  const [first, ...rest] = docs.projects;
  if (first === undefined) {
    issues.push({ file: manifestsDir, line: 0, column: 0, pointer: "", kind: null, name: null, code: "PROJECT_MISSING", message: "no Project document found; exactly one is required (`gaffer init` writes one)" });
    return;
  }
  for (const extra of rest) {
    report(extra.doc, ["kind"], "PROJECT_DUPLICATE", `a second Project; exactly one is allowed (the first is Project/${first.value.metadata.name} at ${where(first.doc, ["kind"])})`);
  }
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
  if (policy.commitFormat !== undefined) checkRegex(doc, ["spec", "policy", "commitFormat"], policy.commitFormat, report);
  const approvers = policy.approvers ?? [];
  const required = policy.requiredApprovals ?? 1;
  if (approvers.length < required) {
    const path = policy.approvers === undefined ? ["spec", "policy"] : ["spec", "policy", "approvers"];
    report(doc, path, "APPROVERS_TOO_FEW", `requiredApprovals is ${required} but policy.approvers lists ${approvers.length} email${approvers.length === 1 ? "" : "s"}: no stage that needs approval could ever start; add approver emails`);
  }
  if (policy.requireSignedApprovals === true && policy.allowedSignersFile === undefined) {
    report(doc, ["spec", "policy", "requireSignedApprovals"], "SIGNERS_FILE_MISSING", "requireSignedApprovals is true but policy.allowedSignersFile is not set; name the ssh allowed-signers file");
  }
}

function checkDuplicateNames(docs: SchemaValidDocs, report: Report): void {
  for (const group of [docs.agentPools, docs.playbooks, docs.tasks]) {
    const seen = new Map<string, ParsedDoc>();
    for (const { doc, value } of group) {
      const first = seen.get(value.metadata.name);
      if (first === undefined) seen.set(value.metadata.name, doc);
      else report(doc, ["metadata", "name"], "NAME_DUPLICATE", `duplicate name: ${value.kind}/${value.metadata.name} is also defined at ${where(first, ["metadata", "name"])}`);
    }
  }
}

function checkRegex(doc: ParsedDoc, path: DocPath, source: string, report: Report): void {
  try {
    new RegExp(source, "m");
  } catch (error) {
    report(doc, path, "REGEX_INVALID", `not a valid regular expression: ${(error as Error).message}`);
  }
}

const PATTERN_FIELDS = ["readyPattern", "busyPattern", "waitingPattern", "errorPattern", "rateLimitPattern"] as const;

/** Returns the known agent names. */
function checkAgents(docs: SchemaValidDocs, report: Report): Set<string> {
  const names = new Map<string, ParsedDoc>();
  for (const { doc, value } of docs.agentPools) {
    value.spec.agents.forEach((agent, i) => {
      const first = names.get(agent.name);
      if (first !== undefined) report(doc, ["spec", "agents", i, "name"], "AGENT_DUPLICATE", `agent "${agent.name}" is defined twice (also in AgentPool/${first.name})`);
      else names.set(agent.name, doc);
      if (agent.profile === undefined && agent.command === undefined) {
        report(doc, ["spec", "agents", i], "AGENT_NO_COMMAND", `agent "${agent.name}" has neither a profile nor a command; set one of them`);
      }
      for (const field of PATTERN_FIELDS) {
        const source = agent[field];
        if (source !== undefined) checkRegex(doc, ["spec", "agents", i, field], source, report);
      }
    });
  }
  return new Set(names.keys());
}

interface StageInfo {
  readonly stage: StageSpec;
  readonly doc: ParsedDoc;
  readonly path: DocPath;
}

function checkStages(docs: SchemaValidDocs, agents: Set<string>, report: Report): Map<string, StageInfo> {
  const stages = new Map<string, StageInfo>();
  for (const { doc, value } of docs.playbooks) {
    value.spec.stages.forEach((stage, i) => {
      const path = ["spec", "stages", i];
      const first = stages.get(stage.name);
      if (first !== undefined) report(doc, [...path, "name"], "STAGE_DUPLICATE", `stage "${stage.name}" is defined twice (first at ${where(first.doc, [...first.path, "name"])})`);
      else stages.set(stage.name, { stage, doc, path });
      checkRoles(doc, path, stage, agents, report);
      if ((stage.needs ?? []).length > 0 && stage.approval === "none") {
        report(doc, [...path, "approval"], "APPROVAL_REQUIRED", `stage "${stage.name}" has needs, so it always requires approval; remove "approval: none"`);
      }
    });
  }
  for (const { stage, doc, path } of stages.values()) {
    (stage.needs ?? []).forEach((need, j) => {
      if (!stages.has(need)) report(doc, [...path, "needs", j], "UNKNOWN_STAGE", `needs unknown stage "${need}" (known: ${[...stages.keys()].join(", ")})`);
    });
  }
  const graph = new Map([...stages].map(([name, info]) => [name, (info.stage.needs ?? []).filter((n) => stages.has(n))]));
  for (const cycle of findCycles(graph)) {
    const info = stages.get(cycle[0]!)!;
    report(info.doc, [...info.path, "needs"], "CYCLE_NEEDS", `cycle in needs: ${cycle.join(" -> ")}`);
  }
  return stages;
}

function checkRoles(doc: ParsedDoc, stagePath: DocPath, stage: StageSpec, agents: Set<string>, report: Report): void {
  const seen = new Set<string>();
  stage.roles.forEach((role, r) => {
    const path = [...stagePath, "roles", r];
    if (seen.has(role.name)) report(doc, [...path, "name"], "ROLE_DUPLICATE", `role "${role.name}" appears twice in stage "${stage.name}"`);
    seen.add(role.name);
    const missing = role.allowedAgents.filter((a) => !agents.has(a));
    if (missing.length === role.allowedAgents.length) {
      report(doc, [...path, "allowedAgents"], "ROLE_NO_AGENT", `role "${role.name}" has no available agent: none of ${role.allowedAgents.join(", ")} is defined in an AgentPool`);
      return;
    }
    role.allowedAgents.forEach((agent, a) => {
      if (!agents.has(agent)) report(doc, [...path, "allowedAgents", a], "UNKNOWN_AGENT", `unknown agent "${agent}" (known: ${[...agents].join(", ")})`);
    });
  });
}

function checkTasks(docs: SchemaValidDocs, stages: Map<string, StageInfo>, report: Report): void {
  const tasks = new Map(docs.tasks.map((t) => [t.value.metadata.name, t]));
  for (const { doc, value } of docs.tasks) {
    const stage = stages.get(value.spec.stage);
    if (stage === undefined) {
      report(doc, ["spec", "stage"], "UNKNOWN_STAGE", `unknown stage "${value.spec.stage}" (known: ${[...stages.keys()].join(", ") || "none"})`);
    } else if (!stage.stage.roles.some((r) => r.name === value.spec.role)) {
      report(doc, ["spec", "role"], "UNKNOWN_ROLE", `stage "${value.spec.stage}" has no role "${value.spec.role}" (roles: ${stage.stage.roles.map((r) => r.name).join(", ")})`);
    }
    (value.spec.dependsOn ?? []).forEach((dep, i) => {
      if (!tasks.has(dep)) report(doc, ["spec", "dependsOn", i], "UNKNOWN_TASK", `depends on unknown task "${dep}"`);
    });
    if (value.spec.branch !== undefined) {
      const problem = checkBranchName(value.spec.branch);
      if (problem !== null) report(doc, ["spec", "branch"], "BRANCH_INVALID", `branch ${JSON.stringify(value.spec.branch)} is not a valid git branch name: it ${problem}`);
    }
  }
  const graph = new Map([...tasks].map(([name, t]) => [name, (t.value.spec.dependsOn ?? []).filter((d) => tasks.has(d))]));
  for (const cycle of findCycles(graph)) {
    report(tasks.get(cycle[0]!)!.doc, ["spec", "dependsOn"], "CYCLE_DEPENDS_ON", `cycle in dependsOn: ${cycle.join(" -> ")}`);
  }
}

function checkCapacityKeys(docs: SchemaValidDocs, agents: Set<string>, stages: Map<string, StageInfo>, report: Report): void {
  const project = docs.projects[0];
  if (project === undefined) return;
  const capacity = project.value.spec.capacity ?? {};
  for (const agent of Object.keys(capacity.perAgent ?? {})) {
    if (!agents.has(agent)) report(project.doc, ["spec", "capacity", "perAgent", agent], "UNKNOWN_AGENT", `capacity.perAgent names unknown agent "${agent}"`, { key: true });
  }
  const roles = new Set([...stages.values()].flatMap((s) => s.stage.roles.map((r) => r.name)));
  for (const role of Object.keys(capacity.perRole ?? {})) {
    if (!roles.has(role)) report(project.doc, ["spec", "capacity", "perRole", role], "UNKNOWN_ROLE", `capacity.perRole names unknown role "${role}"`, { key: true });
  }
}

/** Every elementary cycle once, each starting at its smallest name and closed (`a -> b -> a`). */
export function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const cycles: string[][] = [];
  const seen = new Set<string>();
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, "visiting");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === "visiting") {
        const cycle = stack.slice(stack.indexOf(next));
        const start = cycle.indexOf([...cycle].sort()[0]!);
        const rotated = [...cycle.slice(start), ...cycle.slice(0, start)];
        const key = rotated.join("\0");
        if (!seen.has(key)) {
          seen.add(key);
          cycles.push([...rotated, rotated[0]!]);
        }
      } else if (state.get(next) === undefined) {
        visit(next);
      }
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of [...graph.keys()].sort()) if (state.get(node) === undefined) visit(node);
  return cycles;
}
