/** Planning verbs: stageAllocation (`plan STAGE`) and proposeStage (the proposal a person approves). Read-only. */
import { planAllocation, type AllocationReport } from "../core/allocation.js";
import { findStage } from "../core/project-config.js";
import { planStage, type StagePlan } from "../core/stage-plan.js";
import { NotFoundError, type GafferError } from "../errors.js";
import { missingAgents } from "../sessions/agent-binary.js";
import { readCapacityUsage } from "../../state/capacity.repository.js";
import type { ControlDir } from "./control-dir.js";

function unknownStage(name: string): GafferError {
  return new NotFoundError(`no stage "${name}" in any Playbook; \`gaffer get stages\` lists them`, { details: { stage: name } });
}

/** The allocation report against the capacity in use now (NOT_FOUND for an unknown stage). */
export async function stageAllocation(ctx: ControlDir, stageName: string, parallelism?: number): Promise<AllocationReport> {
  const set = await ctx.loadManifests();
  const stage = findStage(set, stageName);
  if (stage === undefined) throw unknownStage(stageName);
  const inUse = await readCapacityUsage(await ctx.openLedger());
  const agents = await ctx.agents();
  const unavailable = new Map([...missingAgents(agents)].map(([name, m]) => [name, m.message]));
  return planAllocation({ stage, agents, limits: await ctx.limits(), inUse, tasks: set.tasks, unavailable, ...(parallelism === undefined ? {} : { parallelism }) });
}

/** The stage's proposal (pure planStage over the current manifests): what a person approves. */
export async function proposeStage(ctx: ControlDir, stageName: string): Promise<StagePlan> {
  const set = await ctx.loadManifests();
  const stage = findStage(set, stageName);
  if (stage === undefined) throw unknownStage(stageName);
  return planStage(set, await ctx.config(), await ctx.agents(), await ctx.limits(), stage);
}
