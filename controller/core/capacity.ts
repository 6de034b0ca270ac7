import type { ResolvedAgent } from "./agent-profiles.js";
import type { ProjectConfig } from "./project-config.js";

export type CapacityScope = "global" | "agent" | "role";

/** Limits in force: the project's, with each agent's own `capacity` folded in. */
export interface CapacityLimits {
  readonly global: number;
  readonly perAgent: Readonly<Record<string, number>>;
  readonly perRole: Readonly<Record<string, number>>;
}

/** Slots held right now. */
export interface CapacityUsage {
  readonly global: number;
  readonly byAgent: Readonly<Record<string, number>>;
  readonly byRole: Readonly<Record<string, number>>;
}

/** Why a request does not fit: the structured reason of seed skill 10. */
export interface CapacityExceeded {
  readonly code: "CAPACITY_EXCEEDED";
  readonly scope: CapacityScope;
  /** `global`, the agent name or the role name. */
  readonly key: string;
  readonly limit: number;
  readonly inUse: number;
  readonly requested: number;
}

export const EMPTY_USAGE: CapacityUsage = { global: 0, byAgent: {}, byRole: {} };

export function capacityLimits(config: ProjectConfig, agents: readonly ResolvedAgent[]): CapacityLimits {
  const perAgent: Record<string, number> = {};
  for (const agent of agents) perAgent[agent.name] = Math.min(agent.capacity, config.capacity.perAgent[agent.name] ?? Infinity);
  return { global: config.capacity.global, perAgent, perRole: { ...config.capacity.perRole } };
}

/** Limit for one scope key; a role or agent without a limit is bounded only by the others. */
export function limitOf(limits: CapacityLimits, scope: CapacityScope, key: string): number {
  if (scope === "global") return limits.global;
  if (scope === "agent") return limits.perAgent[key] ?? 0;
  return limits.perRole[key] ?? Infinity;
}

export function usageOf(usage: CapacityUsage, scope: CapacityScope, key: string): number {
  if (scope === "global") return usage.global;
  if (scope === "agent") return usage.byAgent[key] ?? 0;
  return usage.byRole[key] ?? 0;
}

/** Free slots for an agent in a role: the tightest of global, agent and role. */
export function freeSlots(limits: CapacityLimits, usage: CapacityUsage, agent: string, role: string): number {
  return Math.max(
    0,
    Math.min(
      limits.global - usage.global,
      limitOf(limits, "agent", agent) - usageOf(usage, "agent", agent),
      limitOf(limits, "role", role) - usageOf(usage, "role", role),
    ),
  );
}

/** The first limit `requested` more slots for (agent, role) would break, checked global, role, agent; or null. */
export function checkCapacity(limits: CapacityLimits, usage: CapacityUsage, request: { readonly agent: string; readonly role: string; readonly count?: number }): CapacityExceeded | null {
  const requested = request.count ?? 1;
  const scopes: readonly (readonly [CapacityScope, string])[] = [
    ["global", "global"],
    ["role", request.role],
    ["agent", request.agent],
  ];
  for (const [scope, key] of scopes) {
    const limit = limitOf(limits, scope, key);
    const inUse = usageOf(usage, scope, key);
    if (inUse + requested > limit) return { code: "CAPACITY_EXCEEDED", scope, key, limit, inUse, requested };
  }
  return null;
}

/** Usage after adding `count` slots for (agent, role). */
export function addUsage(usage: CapacityUsage, agent: string, role: string, count: number): CapacityUsage {
  return {
    global: usage.global + count,
    byAgent: { ...usage.byAgent, [agent]: (usage.byAgent[agent] ?? 0) + count },
    byRole: { ...usage.byRole, [role]: (usage.byRole[role] ?? 0) + count },
  };
}
