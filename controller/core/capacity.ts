import type { ResolvedAgent } from "./agent-profiles.js";
import type { ResolvedHost } from "./hosts.js";
import type { ProjectConfig } from "./project-config.js";

export type CapacityScope = "global" | "agent" | "role" | "host";

/** The `host` scope key of a request when hosts are listed but none is named yet: their slots together. */
export const ANY_HOST = "any host";

/** Limits in force: the project's, with each agent's own `capacity` folded in. */
export interface CapacityLimits {
  readonly global: number;
  readonly perAgent: Readonly<Record<string, number>>;
  readonly perRole: Readonly<Record<string, number>>;
  /** Each agent host's `capacity`; empty (or absent) when every agent runs on this machine. */
  readonly perHost?: Readonly<Record<string, number>>;
}

/** Slots held right now. */
export interface CapacityUsage {
  readonly global: number;
  readonly byAgent: Readonly<Record<string, number>>;
  readonly byRole: Readonly<Record<string, number>>;
  /** Slots per agent host (slots on this machine are not counted here). */
  readonly byHost?: Readonly<Record<string, number>>;
}

/** Why a request does not fit: the structured reason of seed skill 10. */
export interface CapacityExceeded {
  readonly code: "CAPACITY_EXCEEDED";
  readonly scope: CapacityScope;
  /** `global`, the agent, role or host name (ANY_HOST: all hosts together). */
  readonly key: string;
  readonly limit: number;
  readonly inUse: number;
  readonly requested: number;
}

export const EMPTY_USAGE: CapacityUsage = { global: 0, byAgent: {}, byRole: {}, byHost: {} };

export function capacityLimits(config: ProjectConfig, agents: readonly ResolvedAgent[], hosts: readonly ResolvedHost[] = []): CapacityLimits {
  const perAgent: Record<string, number> = {};
  for (const agent of agents) perAgent[agent.name] = Math.min(agent.capacity, config.capacity.perAgent[agent.name] ?? Infinity);
  const perHost = Object.fromEntries(hosts.map((h) => [h.name, h.capacity]));
  return { global: config.capacity.global, perAgent, perRole: { ...config.capacity.perRole }, ...(hosts.length === 0 ? {} : { perHost }) };
}

/** Whether sessions run on agent hosts (then every slot is on one of them). */
export function usesHosts(limits: CapacityLimits): boolean {
  return Object.keys(limits.perHost ?? {}).length > 0;
}

/** Limit for one scope key; a role or agent without a limit is bounded only by the others. */
export function limitOf(limits: CapacityLimits, scope: CapacityScope, key: string): number {
  if (scope === "global") return limits.global;
  if (scope === "agent") return limits.perAgent[key] ?? 0;
  if (scope === "host") return key === ANY_HOST ? Object.values(limits.perHost ?? {}).reduce((a, b) => a + b, 0) : (limits.perHost?.[key] ?? 0);
  return limits.perRole[key] ?? Infinity;
}

export function usageOf(usage: CapacityUsage, scope: CapacityScope, key: string): number {
  if (scope === "global") return usage.global;
  if (scope === "agent") return usage.byAgent[key] ?? 0;
  if (scope === "host") return key === ANY_HOST ? Object.values(usage.byHost ?? {}).reduce((a, b) => a + b, 0) : (usage.byHost?.[key] ?? 0);
  return usage.byRole[key] ?? 0;
}

/** Free slots for an agent in a role (on `host`, or on any host when hosts are listed): the tightest of every scope. */
export function freeSlots(limits: CapacityLimits, usage: CapacityUsage, agent: string, role: string, host?: string): number {
  const free = (scope: CapacityScope, key: string): number => limitOf(limits, scope, key) - usageOf(usage, scope, key);
  const onHost = host !== undefined ? free("host", host) : usesHosts(limits) ? free("host", ANY_HOST) : Infinity;
  return Math.max(0, Math.min(free("global", "global"), free("agent", agent), free("role", role), onHost));
}

/**
 * The host a new session goes to: the one with the most free slots (the
 * first listed on a tie), or null when none has a free slot. Pure.
 */
export function pickHost(limits: CapacityLimits, usage: CapacityUsage): string | null {
  let best: string | null = null;
  let bestFree = 0;
  for (const [name, limit] of Object.entries(limits.perHost ?? {})) {
    const free = limit - (usage.byHost?.[name] ?? 0);
    if (free > bestFree) [best, bestFree] = [name, free];
  }
  return best;
}

/**
 * The first limit `requested` more slots for (agent, role, host) would break,
 * checked global, role, agent, host; or null. `host` left out while hosts are
 * listed: all hosts together; null: this machine (no host scope).
 */
export function checkCapacity(limits: CapacityLimits, usage: CapacityUsage, request: { readonly agent: string; readonly role: string; readonly count?: number; readonly host?: string | null }): CapacityExceeded | null {
  const requested = request.count ?? 1;
  const scopes: (readonly [CapacityScope, string])[] = [
    ["global", "global"],
    ["role", request.role],
    ["agent", request.agent],
  ];
  if (typeof request.host === "string") scopes.push(["host", request.host]);
  else if (request.host === undefined && usesHosts(limits)) scopes.push(["host", ANY_HOST]);
  for (const [scope, key] of scopes) {
    const limit = limitOf(limits, scope, key);
    const inUse = usageOf(usage, scope, key);
    if (inUse + requested > limit) return { code: "CAPACITY_EXCEEDED", scope, key, limit, inUse, requested };
  }
  return null;
}

/** Usage after adding `count` slots for (agent, role), on `host` when given. */
export function addUsage(usage: CapacityUsage, agent: string, role: string, count: number, host?: string | null): CapacityUsage {
  const byHost = typeof host === "string" ? { ...usage.byHost, [host]: (usage.byHost?.[host] ?? 0) + count } : { ...usage.byHost };
  return {
    global: usage.global + count,
    byAgent: { ...usage.byAgent, [agent]: (usage.byAgent[agent] ?? 0) + count },
    byRole: { ...usage.byRole, [role]: (usage.byRole[role] ?? 0) + count },
    byHost,
  };
}
