import { expect, test } from "vitest";
import { resolveAgent } from "../../controller/core/agent-profiles.js";
import { planAllocation } from "../../controller/core/allocation.js";
import { EMPTY_USAGE, checkCapacity, type CapacityLimits } from "../../controller/core/capacity.js";
import type { StageSpec } from "../../controller/core/manifest-types.js";

const agents = [
  resolveAgent({ name: "claude", profile: "claude", capacity: 2 }),
  resolveAgent({ name: "codex", profile: "codex", capacity: 1 }),
  resolveAgent({ name: "scripted", profile: "scripted", capacity: 4 }),
];
const limits: CapacityLimits = { global: 4, perAgent: { claude: 2, codex: 1, scripted: 4 }, perRole: { builder: 3 } };

const build: StageSpec = {
  name: "build",
  needs: ["plan"],
  roles: [
    { name: "builder", count: 3, allowedAgents: ["claude", "codex", "scripted"] },
    { name: "reviewer", allowedAgents: ["codex", "scripted"] },
  ],
};

test("assigns agents in preference order within agent, role and global limits", () => {
  const report = planAllocation({ stage: build, agents, limits, inUse: EMPTY_USAGE });
  expect(report.feasible).toBe(true);
  expect(report.roles.map((r) => [r.role, r.assignments, r.allocated, r.requested])).toEqual([
    ["builder", [{ agent: "claude", model: "sonnet", count: 2 }, { agent: "codex", model: "gpt-5-codex", count: 1 }], 3, 3],
    ["reviewer", [{ agent: "scripted", model: "scripted-1", count: 1 }], 1, 1],
  ]);
});

test("what is already reserved counts: a full global limit blocks with a structured reason", () => {
  const inUse = { global: 3, byAgent: { scripted: 3 }, byRole: { tester: 3 } };
  const report = planAllocation({ stage: build, agents, limits, inUse });
  expect(report.feasible).toBe(false);
  const builder = report.roles[0]!;
  expect(builder.allocated).toBe(1);
  expect(builder.blocked).toEqual([{ code: "CAPACITY_EXCEEDED", scope: "global", key: "global", limit: 4, inUse: 4, requested: 2 }]);
  expect(report.roles[1]!.blocked).toEqual([{ code: "CAPACITY_EXCEEDED", scope: "global", key: "global", limit: 4, inUse: 4, requested: 1 }]);
});

test("a role limit is named as the scope that blocked", () => {
  const report = planAllocation({ stage: build, agents, limits: { ...limits, global: 10 }, inUse: EMPTY_USAGE, parallelism: 5 });
  expect(report.roles[0]!.allocated).toBe(3);
  expect(report.roles[0]!.blocked).toEqual([{ code: "CAPACITY_EXCEEDED", scope: "role", key: "builder", limit: 3, inUse: 3, requested: 2 }]);
});

test("agent limits are reported per agent when they are what binds", () => {
  const stage: StageSpec = { name: "s", roles: [{ name: "r", count: 4, allowedAgents: ["claude", "codex"] }] };
  const report = planAllocation({ stage, agents, limits: { ...limits, global: 10 }, inUse: EMPTY_USAGE });
  expect(report.roles[0]!.blocked).toEqual([
    { code: "CAPACITY_EXCEEDED", scope: "agent", key: "claude", limit: 2, inUse: 2, requested: 1 },
    { code: "CAPACITY_EXCEEDED", scope: "agent", key: "codex", limit: 1, inUse: 1, requested: 1 },
  ]);
});

test("no allowed agent, or no agent with the role's model, is NO_ALLOWED_AGENT", () => {
  const stage: StageSpec = {
    name: "s",
    roles: [
      { name: "ghost", allowedAgents: ["nobody"] },
      { name: "picky", allowedAgents: ["codex"], model: "opus" },
    ],
  };
  const report = planAllocation({ stage, agents, limits, inUse: EMPTY_USAGE });
  expect(report.roles[0]!.blocked).toEqual([{ code: "NO_ALLOWED_AGENT", role: "ghost", allowedAgents: ["nobody"], detail: "none of the allowed agents is in an AgentPool" }]);
  expect(report.roles[1]!.blocked).toEqual([
    { code: "NO_ALLOWED_AGENT", role: "picky", allowedAgents: ["codex"], detail: "no allowed agent offers the role's model" },
    { code: "MODEL_UNAVAILABLE", agent: "codex", model: "opus", models: ["gpt-5-codex", "gpt-5"] },
  ]);
});

test("checkCapacity checks global, then role, then agent", () => {
  expect(checkCapacity(limits, { global: 4, byAgent: {}, byRole: {} }, { agent: "claude", role: "builder" })?.scope).toBe("global");
  expect(checkCapacity(limits, { global: 3, byAgent: {}, byRole: { builder: 3 } }, { agent: "claude", role: "builder" })?.scope).toBe("role");
  expect(checkCapacity(limits, { global: 2, byAgent: { claude: 2 }, byRole: {} }, { agent: "claude", role: "builder" })?.scope).toBe("agent");
  expect(checkCapacity(limits, EMPTY_USAGE, { agent: "claude", role: "builder" })).toBeNull();
});
