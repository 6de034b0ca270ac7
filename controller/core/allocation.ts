import type { ResolvedAgent } from "./agent-profiles.js";
import { addUsage, checkCapacity, freeSlots, pickHost, usesHosts, type CapacityExceeded, type CapacityLimits, type CapacityUsage } from "./capacity.js";
import type { StageSpec, TaskManifest } from "./manifest-types.js";

/** Why a role cannot be (fully) staffed. */
export type BlockReason =
  | CapacityExceeded
  | { readonly code: "NO_ALLOWED_AGENT"; readonly role: string; readonly allowedAgents: readonly string[]; readonly detail: string }
  | { readonly code: "MODEL_UNAVAILABLE"; readonly agent: string; readonly model: string; readonly models: readonly string[] }
  | { readonly code: "AGENT_NOT_INSTALLED"; readonly agent: string; readonly detail: string };

export interface Assignment {
  readonly agent: string;
  readonly model: string | null;
  readonly count: number;
  /** Slots per agent host, when hosts are listed (most free first). */
  readonly hosts?: Readonly<Record<string, number>>;
}

export interface RoleAllocation {
  readonly role: string;
  readonly requested: number;
  readonly allocated: number;
  readonly assignments: readonly Assignment[];
  /** Tasks of this stage that this role does (the worktree plan). */
  readonly tasks: readonly string[];
  /** Empty when the role is fully staffed. */
  readonly blocked: readonly BlockReason[];
  /** Allowed agents preferred over the first usable one but not installed (allocation fell back past them). */
  readonly skipped?: readonly BlockReason[];
}

/** The selection report of seed skill 1. */
export interface AllocationReport {
  readonly stage: string;
  readonly roles: readonly RoleAllocation[];
  /** True when every role got all it asked for. */
  readonly feasible: boolean;
  readonly limits: CapacityLimits;
  readonly inUse: CapacityUsage;
}

export interface AllocationInput {
  readonly stage: StageSpec;
  readonly agents: readonly ResolvedAgent[];
  readonly limits: CapacityLimits;
  /** What is already reserved (from the ledger). */
  readonly inUse: CapacityUsage;
  readonly tasks?: readonly TaskManifest[];
  /** Overrides every role's `count` (the brief's requested_parallelism). */
  readonly parallelism?: number;
  /** Agents that cannot start (binary missing), with why: never allocated, reported as skipped. */
  readonly unavailable?: ReadonlyMap<string, string>;
}

/**
 * Pure: assigns agents and models to each role of a stage in preference
 * order, within every capacity limit, and says why any role is short.
 */
export function planAllocation(input: AllocationInput): AllocationReport {
  let usage = input.inUse;
  const roles = input.stage.roles.map((role): RoleAllocation => {
    const requested = input.parallelism ?? role.count ?? 1;
    const tasks = (input.tasks ?? []).filter((t) => t.spec.stage === input.stage.name && t.spec.role === role.name).map((t) => t.metadata.name);
    const assignments: Assignment[] = [];
    const blocked: BlockReason[] = [];
    const candidates: ResolvedAgent[] = [];
    const skipped: BlockReason[] = [];
    for (const name of role.allowedAgents) {
      const agent = input.agents.find((a) => a.name === name);
      if (agent === undefined) continue;
      const missing = input.unavailable?.get(name);
      if (missing !== undefined) {
        // Reported only when it was preferred over the agent the role falls back to.
        if (candidates.length === 0) skipped.push({ code: "AGENT_NOT_INSTALLED", agent: name, detail: missing });
        continue;
      }
      if (role.model !== undefined && agent.models.length > 0 && !agent.models.includes(role.model)) {
        blocked.push({ code: "MODEL_UNAVAILABLE", agent: name, model: role.model, models: agent.models });
        continue;
      }
      candidates.push(agent);
    }
    if (candidates.length === 0) {
      const detail = skipped.length > 0 ? "no allowed agent is installed" : blocked.length > 0 ? "no allowed agent offers the role's model" : "none of the allowed agents is in an AgentPool";
      return { role: role.name, requested, allocated: 0, assignments, tasks, blocked: [{ code: "NO_ALLOWED_AGENT", role: role.name, allowedAgents: role.allowedAgents, detail }, ...skipped, ...blocked], ...(skipped.length > 0 ? { skipped } : {}) };
    }
    let remaining = requested;
    for (const agent of candidates) {
      const take = Math.min(remaining, freeSlots(input.limits, usage, agent.name, role.name));
      if (take <= 0) continue;
      const placed = placeOnHosts(input.limits, usage, agent.name, role.name, take);
      assignments.push({ agent: agent.name, model: role.model ?? agent.models[0] ?? null, count: take, ...placed.hosts });
      usage = placed.usage;
      remaining -= take;
      if (remaining === 0) break;
    }
    if (remaining > 0) {
      const reasons = new Map<string, BlockReason>();
      for (const agent of candidates) {
        const reason = checkCapacity(input.limits, usage, { agent: agent.name, role: role.name, count: remaining });
        if (reason !== null) reasons.set(`${reason.scope}/${reason.key}`, reason);
      }
      blocked.unshift(...reasons.values());
    }
    return { role: role.name, requested, allocated: requested - remaining, assignments, tasks, blocked: remaining > 0 ? blocked : [], ...(skipped.length > 0 ? { skipped } : {}) };
  });
  return { stage: input.stage.name, roles, feasible: roles.every((r) => r.blocked.length === 0), limits: input.limits, inUse: input.inUse };
}

/** Adds `count` slots to the usage, each on the host with the most free slots when hosts are listed. */
function placeOnHosts(limits: CapacityLimits, usage: CapacityUsage, agent: string, role: string, count: number): { usage: CapacityUsage; hosts: { hosts?: Record<string, number> } } {
  if (!usesHosts(limits)) return { usage: addUsage(usage, agent, role, count), hosts: {} };
  const hosts: Record<string, number> = {};
  let next = usage;
  for (let i = 0; i < count; i++) {
    const host = pickHost(limits, next);
    if (host !== null) hosts[host] = (hosts[host] ?? 0) + 1;
    next = addUsage(next, agent, role, 1, host);
  }
  return { usage: next, hosts: { hosts } };
}
