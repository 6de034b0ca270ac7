import { checkBranchName } from "../core/git-ref.js";
import type { StageSpec } from "../core/manifest-types.js";
import { checkRegex, where, type CheckContext } from "./check-context.js";
import type { DocPath, ParsedDoc } from "./parse.js";
import { suggest } from "./schema-check.js";

/** A stage and where it is defined. */
export interface StageInfo {
  readonly stage: StageSpec;
  readonly doc: ParsedDoc;
  readonly path: DocPath;
}

const PATTERN_FIELDS = ["readyPattern", "busyPattern", "waitingPattern", "errorPattern", "rateLimitPattern"] as const;

function listOf(names: Iterable<string>): string {
  return [...names].join(", ") || "none";
}

/** Checks every agent of every AgentPool; returns the known agent names. */
export function checkAgents({ docs, report }: CheckContext): Set<string> {
  const names = new Map<string, { doc: ParsedDoc; path: DocPath }>();
  for (const { doc, value } of docs.agentPools) {
    value.spec.agents.forEach((agent, i) => {
      const path = ["spec", "agents", i];
      const first = names.get(agent.name);
      if (first !== undefined) report(doc, [...path, "name"], "AGENT_DUPLICATE", `agent "${agent.name}" is defined twice (first at ${where(first.doc, [...first.path, "name"])})`);
      else names.set(agent.name, { doc, path });
      if (agent.profile === undefined && agent.command === undefined) {
        report(doc, path, "AGENT_NO_COMMAND", `agent "${agent.name}" has neither a profile nor a command; set one of them`);
      }
      for (const field of PATTERN_FIELDS) {
        const source = agent[field];
        if (source !== undefined) checkRegex(doc, [...path, field], source, report);
      }
    });
  }
  return new Set(names.keys());
}

/** Checks stages and their roles across playbooks; returns the stages by name (first definition wins). */
export function checkStages(ctx: CheckContext, agents: ReadonlySet<string>): Map<string, StageInfo> {
  const { docs, report, complete } = ctx;
  const stages = new Map<string, StageInfo>();
  for (const { doc, value } of docs.playbooks) {
    value.spec.stages.forEach((stage, i) => {
      const path = ["spec", "stages", i];
      const first = stages.get(stage.name);
      if (first !== undefined) report(doc, [...path, "name"], "STAGE_DUPLICATE", `stage "${stage.name}" is defined twice (first at ${where(first.doc, [...first.path, "name"])})`);
      else stages.set(stage.name, { stage, doc, path });
      checkRoles(ctx, doc, path, stage, agents);
      if ((stage.needs ?? []).length > 0 && stage.approval === "none") {
        report(doc, [...path, "approval"], "APPROVAL_REQUIRED", `stage "${stage.name}" has needs, so it always requires approval; remove "approval: none"`);
      }
    });
  }
  for (const { stage, doc, path } of stages.values()) {
    (stage.needs ?? []).forEach((need, j) => {
      if (complete.Playbook && !stages.has(need)) report(doc, [...path, "needs", j], "UNKNOWN_STAGE", `needs unknown stage "${need}" (known: ${listOf(stages.keys())})`);
    });
  }
  const graph = new Map([...stages].map(([name, info]) => [name, (info.stage.needs ?? []).filter((n) => stages.has(n))]));
  for (const cycle of findCycles(graph)) {
    const info = stages.get(cycle[0]!)!;
    const edge = [...info.path, "needs", (info.stage.needs ?? []).indexOf(cycle[1]!)];
    const message = cycle.length === 2 ? `stage "${cycle[0]}" needs itself` : `cycle in needs: ${cycle.join(" -> ")}`;
    report(info.doc, edge, "CYCLE_NEEDS", message);
  }
  return stages;
}

function checkRoles({ report, complete }: CheckContext, doc: ParsedDoc, stagePath: DocPath, stage: StageSpec, agents: ReadonlySet<string>): void {
  const seen = new Map<string, DocPath>();
  stage.roles.forEach((role, r) => {
    const path = [...stagePath, "roles", r];
    const first = seen.get(role.name);
    if (first !== undefined) report(doc, [...path, "name"], "ROLE_DUPLICATE", `role "${role.name}" appears twice in stage "${stage.name}" (first at ${where(doc, [...first, "name"])})`);
    else seen.set(role.name, path);
    if (!complete.AgentPool) return;
    const missing = role.allowedAgents.filter((a) => !agents.has(a));
    if (missing.length === role.allowedAgents.length) {
      report(doc, [...path, "allowedAgents"], "ROLE_NO_AGENT", `role "${role.name}" has no available agent: none of ${role.allowedAgents.join(", ")} is defined in an AgentPool (known: ${listOf(agents)})`);
      return;
    }
    role.allowedAgents.forEach((agent, a) => {
      if (!agents.has(agent)) report(doc, [...path, "allowedAgents", a], "UNKNOWN_AGENT", `unknown agent "${agent}" (known: ${listOf(agents)})`);
    });
  });
}

/** Checks each task's stage, role, dependencies and branch, and cycles in dependsOn. */
export function checkTasks({ docs, report, complete }: CheckContext, stages: ReadonlyMap<string, StageInfo>): void {
  const tasks = new Map(docs.tasks.map((t) => [t.value.metadata.name, t]));
  for (const { doc, value } of docs.tasks) {
    const stage = stages.get(value.spec.stage);
    if (!complete.Playbook) {
      // Stages of a rejected playbook are unknown: nothing to compare with.
    } else if (stage === undefined) {
      report(doc, ["spec", "stage"], "UNKNOWN_STAGE", `unknown stage "${value.spec.stage}" (known: ${listOf(stages.keys())})`);
    } else if (!stage.stage.roles.some((r) => r.name === value.spec.role)) {
      report(doc, ["spec", "role"], "UNKNOWN_ROLE", `stage "${value.spec.stage}" has no role "${value.spec.role}" (roles: ${stage.stage.roles.map((r) => r.name).join(", ")})`);
    }
    (value.spec.dependsOn ?? []).forEach((dep, i) => {
      if (!complete.Task || tasks.has(dep)) return;
      const hint = suggest(dep, [...tasks.keys()]);
      report(doc, ["spec", "dependsOn", i], "UNKNOWN_TASK", `depends on unknown task "${dep}"${hint === null ? "" : ` (did you mean "${hint}"?)`}`);
    });
    if (value.spec.branch !== undefined) {
      const problem = checkBranchName(value.spec.branch);
      if (problem !== null) report(doc, ["spec", "branch"], "BRANCH_INVALID", `branch ${JSON.stringify(value.spec.branch)} is not a valid git branch name: it ${problem}`);
    }
  }
  const graph = new Map([...tasks].map(([name, t]) => [name, (t.value.spec.dependsOn ?? []).filter((d) => tasks.has(d))]));
  for (const cycle of findCycles(graph)) {
    const task = tasks.get(cycle[0]!)!;
    const edge = ["spec", "dependsOn", (task.value.spec.dependsOn ?? []).indexOf(cycle[1]!)];
    const message = cycle.length === 2 ? `task "${cycle[0]}" depends on itself` : `cycle in dependsOn: ${cycle.join(" -> ")}`;
    report(task.doc, edge, "CYCLE_DEPENDS_ON", message);
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
