import { expect, test } from "vitest";
import { resolveAgent } from "../../controller/core/agent-profiles.js";
import { planAllocation } from "../../controller/core/allocation.js";
import { ANY_HOST, EMPTY_USAGE, checkCapacity, freeSlots, pickHost, type CapacityLimits } from "../../controller/core/capacity.js";
import { resolveHosts } from "../../controller/core/hosts.js";
import type { AgentPoolManifest, StageSpec } from "../../controller/core/manifest-types.js";

const agents = [resolveAgent({ name: "scripted", profile: "scripted", capacity: 10 })];
const limits: CapacityLimits = { global: 10, perAgent: { scripted: 10 }, perRole: {}, perHost: { a: 2, b: 1 } };
const build: StageSpec = { name: "build", roles: [{ name: "builder", count: 4, allowedAgents: ["scripted"] }] };

test("a host is one more capacity scope: slots spread by free host capacity, the rest blocked with the host scope", () => {
  const report = planAllocation({ stage: build, agents, limits, inUse: EMPTY_USAGE });
  const builder = report.roles[0]!;
  expect(builder.assignments).toEqual([{ agent: "scripted", model: "scripted-1", count: 3, hosts: { a: 2, b: 1 } }]);
  expect(builder.blocked).toEqual([{ code: "CAPACITY_EXCEEDED", scope: "host", key: ANY_HOST, limit: 3, inUse: 3, requested: 1 }]);
});

test("pickHost takes the host with the most free slots, the first listed on a tie, none when all are full", () => {
  expect(pickHost(limits, EMPTY_USAGE)).toBe("a");
  expect(pickHost(limits, { ...EMPTY_USAGE, byHost: { a: 1 } })).toBe("a");
  expect(pickHost(limits, { ...EMPTY_USAGE, byHost: { a: 2 } })).toBe("b");
  expect(pickHost(limits, { ...EMPTY_USAGE, byHost: { a: 2, b: 1 } })).toBeNull();
  expect(pickHost({ ...limits, perHost: {} }, EMPTY_USAGE)).toBeNull();
});

test("checkCapacity names the full host; without hosts nothing changes", () => {
  const usage = { global: 2, byAgent: { scripted: 2 }, byRole: {}, byHost: { a: 2 } };
  expect(checkCapacity(limits, usage, { agent: "scripted", role: "builder", host: "a" })).toEqual({ code: "CAPACITY_EXCEEDED", scope: "host", key: "a", limit: 2, inUse: 2, requested: 1 });
  expect(checkCapacity(limits, usage, { agent: "scripted", role: "builder", host: "b" })).toBeNull();
  expect(freeSlots(limits, usage, "scripted", "builder")).toBe(1);
  const local = { global: 10, perAgent: { scripted: 10 }, perRole: {} };
  expect(checkCapacity(local, usage, { agent: "scripted", role: "builder" })).toBeNull();
  expect(freeSlots(local, usage, "scripted", "builder")).toBe(8);
});

test("hosts resolve with their defaults; a relative key is taken from the control dir", () => {
  const pool = { apiVersion: "gaffer/v1", kind: "AgentPool", metadata: { name: "p" }, spec: { agents: [], hosts: [{ name: "a", ssh: "me@a.example", workdir: "/srv/g/" }, { name: "b", ssh: "b.example", port: 2200, identityFile: "keys/b", capacity: 3, workdir: "/w" }] } } as unknown as AgentPoolManifest;
  expect(resolveHosts({ agentPools: [pool] }, "/ctl")).toEqual([
    { name: "a", ssh: "me@a.example", port: 22, identityFile: null, capacity: 1, workdir: "/srv/g" },
    { name: "b", ssh: "b.example", port: 2200, identityFile: "/ctl/keys/b", capacity: 3, workdir: "/w" },
  ]);
});
