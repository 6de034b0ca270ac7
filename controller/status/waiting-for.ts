import type { ManifestSet } from "../core/manifest-types.js";
import { allStages } from "../core/project-config.js";

/** What the status view knows of one task, for the reasons nothing moves. */
export interface TaskFact {
  readonly name: string;
  readonly stage: string;
  readonly phase: string;
  readonly reason: string | null;
  /** A Stalled condition that is not about a Failed task (a session needs a person, or is stuck). */
  readonly stalled: string | null;
}

/** Stages that `stage` needs, directly or through other stages. */
function upstreamOf(set: ManifestSet, stage: string): Set<string> {
  const needs = new Map(allStages(set).map((s) => [s.name, s.needs ?? []]));
  const seen = new Set<string>();
  const visit = (name: string): void => {
    for (const n of needs.get(name) ?? []) if (!seen.has(n)) (seen.add(n), visit(n));
  };
  visit(stage);
  return seen;
}

/**
 * Pure: a task that depends on a task of a stage that runs after its own
 * (that stage needs this one, directly or not) can never start, and holds
 * both stages forever.
 */
export function dependencyDeadlocks(set: ManifestSet, dir: string): string[] {
  const stageOf = new Map(set.tasks.map((t) => [t.metadata.name, t.spec.stage]));
  const out: string[] = [];
  for (const task of set.tasks) {
    for (const dep of task.spec.dependsOn ?? []) {
      const depStage = stageOf.get(dep);
      if (depStage === undefined || depStage === task.spec.stage) continue;
      if (upstreamOf(set, depStage).has(task.spec.stage)) {
        out.push(`deadlock: task ${task.metadata.name} (stage ${task.spec.stage}) depends on task ${dep} of stage ${depStage}, which needs stage ${task.spec.stage} to pass first: neither can start; drop the dependsOn or move one task (\`gaffer validate --dir ${dir}\`)`);
      }
    }
  }
  return out;
}

/** Pure: Failed tasks and stages (with the exact retry command), tasks held by a Failed dependency, Stalled tasks. */
export function blockedWork(input: { readonly set: ManifestSet; readonly dir: string; readonly tasks: readonly TaskFact[]; readonly stages: ReadonlyMap<string, string> }): string[] {
  const { dir, tasks } = input;
  const byName = new Map(tasks.map((t) => [t.name, t]));
  const out: string[] = [];
  for (const [stage, phase] of input.stages) {
    const failed = tasks.filter((t) => t.stage === stage && t.phase === "Failed");
    if (phase === "Failed" && failed.length > 0) out.push(`stage ${stage} is Failed (${failed.map((t) => t.name).join(", ")} failed): \`gaffer retry ${stage} --dir ${dir}\` starts a new attempt of every failed task`);
  }
  for (const task of tasks) {
    if (task.phase === "Failed") out.push(`task ${task.name} is Failed${task.reason === null ? "" : ` (${oneLine(task.reason)})`}: retry it with \`gaffer retry ${task.name} --dir ${dir}\``);
    else if (task.stalled !== null) out.push(`task ${task.name} is Stalled: ${oneLine(task.stalled)}`);
    const spec = input.set.tasks.find((t) => t.metadata.name === task.name);
    for (const dep of spec?.spec.dependsOn ?? []) {
      if (task.phase === "Pending" && byName.get(dep)?.phase === "Failed") out.push(`task ${task.name} waits for task ${dep}, which is Failed: \`gaffer retry ${dep} --dir ${dir}\``);
    }
  }
  return out;
}

/** The first line of a reason, at most 160 characters (cut at a word). */
function oneLine(text: string): string {
  const line = text.split("\n")[0]!.trim();
  if (line.length <= 160) return line;
  const cut = line.slice(0, 160);
  return `${cut.slice(0, Math.max(cut.lastIndexOf(" "), 100))}…`;
}
