import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { resolveAgent } from "../../controller/core/agent-profiles.js";
import { capacityLimits } from "../../controller/core/capacity.js";
import { allAgents, findStage, resolveProject } from "../../controller/core/project-config.js";
import { planStage } from "../../controller/core/stage-plan.js";
import { loadManifestSet } from "../../controller/manifest/load.js";
import { APPROVER, commitAs, flowFixture, type FlowFixture, type FlowOptions } from "./flow-fixture.js";

/** A flow fixture whose build plan is approved up front, by a commit made before any controller runs (the digest is what the controller will propose). */
export async function approvedFlowFixture(options: FlowOptions = {}): Promise<FlowFixture> {
  const fixture = flowFixture(options);
  const set = await loadManifestSet(fixture.dir);
  const config = resolveProject(set.project, fixture.dir);
  const agents = allAgents(set).map(resolveAgent);
  const plan = planStage(set, config, agents, capacityLimits(config, agents), findStage(set, "build")!);
  mkdirSync(join(fixture.dir, "status/stages"), { recursive: true });
  writeFileSync(join(fixture.dir, "status/stages/build.yaml"), `approvals:\n  - {requestId: ${plan.request!.id}, decision: approved}\n`);
  commitAs(fixture.dir, APPROVER, "chore(approval): approve build", "status/stages/build.yaml");
  return fixture;
}
