import { resolveAgent } from "../core/agent-profiles.js";
import type { AgentSpec, GateSpec } from "../core/manifest-types.js";
import type { CheckContext, TypedDoc } from "./check-context.js";
import type { TaskManifest } from "../core/manifest-types.js";
import type { StageInfo } from "./reference-check.js";

/**
 * Manifest sets that are valid on their own but certain to fail once they
 * run: a task with no gate to decide on, a `dependsOn` that waits for a later
 * stage (deadlock), a role model no allowed agent offers, approvers that are
 * not emails. Each is reported where the user fixes it.
 */
export function checkRuntime(ctx: CheckContext, stages: ReadonlyMap<string, StageInfo>): void {
  checkGates(ctx, stages);
  checkDependsOnVsNeeds(ctx, stages);
  checkRoleModels(ctx, stages);
  checkApproverEmails(ctx);
}

/** Whether a gate can decide anything: commands to run, or an explicit `none` with a reason. */
export function gateDecides(gate: GateSpec | undefined): boolean {
  return gate !== undefined && ((gate.commands ?? []).length > 0 || (gate.none ?? "").trim() !== "");
}

const NO_GATE_FIX = "a task passes only on evidence: add gate.commands (argv lists, e.g. [[npm, test]]), or `gate: {none: REASON}` to merge without one";

function checkGates({ docs, report, complete }: CheckContext, stages: ReadonlyMap<string, StageInfo>): void {
  if (!complete.Playbook) return;
  const ungated = new Map<string, string[]>();
  for (const { doc, value } of docs.tasks) {
    const stage = stages.get(value.spec.stage);
    if (stage === undefined) continue;
    if (value.spec.gate !== undefined) {
      if (!gateDecides(value.spec.gate) && !gateDecides(stage.stage.gate)) report(doc, ["spec", "gate"], "GATE_MISSING", `task "${value.metadata.name}" has a gate with no commands and its stage "${stage.stage.name}" has none either: ${NO_GATE_FIX}`);
      continue;
    }
    if (!gateDecides(stage.stage.gate)) ungated.set(stage.stage.name, [...(ungated.get(stage.stage.name) ?? []), value.metadata.name]);
  }
  for (const [name, tasks] of ungated) {
    const { doc, path, stage } = stages.get(name)!;
    const what = stage.gate === undefined ? "has no gate" : "has a gate with no commands";
    report(doc, stage.gate === undefined ? [...path, "name"] : [...path, "gate"], "GATE_MISSING", `stage "${name}" ${what}, so its task${tasks.length === 1 ? "" : "s"} ${tasks.join(", ")} would fail at the gate: ${NO_GATE_FIX}`);
  }
}

/** Stages that must pass before `stage` starts, transitively. */
function ancestors(stages: ReadonlyMap<string, StageInfo>, stage: string): Set<string> {
  const seen = new Set<string>();
  const visit = (name: string): void => {
    for (const need of stages.get(name)?.stage.needs ?? []) {
      if (seen.has(need)) continue;
      seen.add(need);
      visit(need);
    }
  };
  visit(stage);
  return seen;
}

function checkDependsOnVsNeeds({ docs, report, complete }: CheckContext, stages: ReadonlyMap<string, StageInfo>): void {
  if (!complete.Playbook || !complete.Task) return;
  const tasks = new Map<string, TypedDoc<TaskManifest>>(docs.tasks.map((t) => [t.value.metadata.name, t]));
  for (const { doc, value } of docs.tasks) {
    const own = value.spec.stage;
    (value.spec.dependsOn ?? []).forEach((dep, i) => {
      const other = tasks.get(dep)?.value.spec.stage;
      if (other === undefined || other === own || !stages.has(own) || !ancestors(stages, other).has(own)) return;
      // A cycle (in needs, or in dependsOn) is reported on its own; this would only repeat it.
      if (ancestors(stages, own).has(own) || dependsOnReaches(tasks, dep, value.metadata.name)) return;
      report(doc, ["spec", "dependsOn", i], "DEPENDS_ON_LATER_STAGE", `task "${value.metadata.name}" (stage ${own}) depends on task "${dep}" of stage ${other}, which starts only after stage ${own} has passed (${other} needs ${own}): both would wait forever; move "${dep}" to ${own} or an earlier stage, or drop the dependency`);
    });
  }
}

function dependsOnReaches(tasks: ReadonlyMap<string, TypedDoc<TaskManifest>>, from: string, to: string): boolean {
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (name === to) return true;
    if (seen.has(name)) continue;
    seen.add(name);
    stack.push(...(tasks.get(name)?.value.spec.dependsOn ?? []));
  }
  return false;
}

function checkRoleModels({ docs, report, complete }: CheckContext, stages: ReadonlyMap<string, StageInfo>): void {
  if (!complete.AgentPool) return;
  const agents = new Map<string, AgentSpec>(docs.agentPools.flatMap((p) => p.value.spec.agents.map((a) => [a.name, a] as const)));
  for (const { stage, doc, path } of stages.values()) {
    stage.roles.forEach((role, r) => {
      if (role.model === undefined) return;
      const known = role.allowedAgents.flatMap((name) => (agents.has(name) ? [resolveAgent(agents.get(name)!)] : []));
      if (known.length === 0 || known.some((a) => a.models.length === 0 || a.models.includes(role.model!))) return;
      const offers = known.map((a) => `${a.name}: ${a.models.join(", ")}`).join("; ");
      report(doc, [...path, "roles", r, "model"], "MODEL_UNAVAILABLE", `role "${role.name}" asks for model "${role.model}", which none of its allowed agents offers (${offers}); pick one of those, or add it to an agent's models`);
    });
  }
}

/** An email as git records it: something@host, no spaces or angle brackets. */
const EMAIL = /^[^\s@<>]+@[^\s@<>]+$/;

function checkApproverEmails({ docs, report }: CheckContext): void {
  const first = docs.projects[0];
  if (first === undefined) return;
  (first.value.spec.policy?.approvers ?? []).forEach((approver, i) => {
    if (!EMAIL.test(approver)) report(first.doc, ["spec", "policy", "approvers", i], "APPROVER_NOT_EMAIL", `approver ${JSON.stringify(approver)} is not an email; approvals are matched by the git author email of the approval commit (e.g. alice@example.com)`);
  });
}
