import type { AgentProfileName, AgentSpec } from "./manifest-types.js";
import { AGENT_PROFILES } from "./builtin-profiles.js";

export { AGENT_PROFILES, SCRIPTED_AGENT_PATH } from "./builtin-profiles.js";

/**
 * Why a task's agent needs a person (the `Stalled` condition's reason): a
 * start-up dialog, a question, an error or screen that lasted too long, or a
 * binary that is not installed.
 */
export type StallReason = "NeedsTrust" | "NeedsLogin" | "NeedsApiKeyConfirmation" | "ConnectionError" | "Question" | "AgentNotInstalled" | "AgentError" | "UnrecognizedScreen";

/** Status kinds a screen rule can signal. */
export type RuleKind = "ready" | "busy" | "waiting" | "error" | "rateLimit";

/** One screen rule: its id is stored as evidence when it matches. */
export interface ScreenRule {
  /** `<profile>/<kind>/<n>` or `<agent>/<kind>` for manifest overrides. */
  readonly id: string;
  readonly kind: RuleKind;
  /** Regular expression source, matched against the pane text (multiline). */
  readonly pattern: string;
  /** For waiting and error rules: what the person has to do (e.g. `NeedsLogin`). */
  readonly reason?: StallReason;
}

/** A built-in agent profile, versioned with gaffer. */
export interface AgentProfile {
  readonly name: AgentProfileName;
  /** Version of the CLI whose screens the patterns were taken from. */
  readonly seenWith: string;
  readonly command: readonly string[];
  readonly models: readonly string[];
  readonly rules: readonly ScreenRule[];
  /** Lines that only appear when a turn has finished (e.g. claude's `✻ Worked for 12s`): evidence of `done`. */
  readonly turnDone: readonly string[];
  /** The agent's input line; group 1 is what is typed in it. null: the profile cannot read it. */
  readonly inputLine: string | null;
  /** What an empty input line shows instead of text (a placeholder), matched against group 1. */
  readonly inputPlaceholder: string | null;
  /** How to install the CLI (shown with AGENT_NOT_INSTALLED). */
  readonly installHint: string;
  readonly idleAfterMs: number;
  readonly stuckAfterMs: number;
  readonly startupTimeoutMs: number;
  /** Status rules look at only the last N non-blank screen lines (old dialogs and errors scroll up but stay visible). */
  readonly statusLines: number;
  /** Delay before the first restart of a crashed session; doubles with each restart. */
  readonly restartBackoffMs: number;
  /** Backoff after a rate-limit line that shows no reset time. */
  readonly rateLimitDelayMs: number;
  readonly env: Readonly<Record<string, string>>;
}

/** An AgentPool agent with its profile and defaults applied. */
export interface ResolvedAgent {
  readonly name: string;
  readonly profile: AgentProfileName | null;
  readonly command: readonly string[];
  readonly models: readonly string[];
  readonly capacity: number;
  readonly env: Readonly<Record<string, string>>;
  readonly rules: readonly ScreenRule[];
  readonly idleAfterMs: number;
  readonly stuckAfterMs: number;
  readonly startupTimeoutMs: number;
  readonly maxRestarts: number;
  /** See AgentProfile.statusLines (15 without a profile). */
  readonly statusLines: number;
  readonly restartBackoffMs: number;
  readonly rateLimitDelayMs: number;
  /** See AgentProfile: empty, null and a generic hint without a profile. */
  readonly turnDone: readonly string[];
  readonly inputLine: string | null;
  readonly inputPlaceholder: string | null;
  readonly installHint: string;
}

const OVERRIDES: readonly (readonly [keyof AgentSpec, RuleKind])[] = [
  ["readyPattern", "ready"],
  ["busyPattern", "busy"],
  ["waitingPattern", "waiting"],
  ["errorPattern", "error"],
  ["rateLimitPattern", "rateLimit"],
];

/** Applies the profile, then every field the manifest sets overrides just that field. */
export function resolveAgent(agent: AgentSpec): ResolvedAgent {
  const profile = agent.profile === undefined ? null : AGENT_PROFILES[agent.profile];
  let screenRules: ScreenRule[] = [...(profile?.rules ?? [])];
  for (const [field, kind] of OVERRIDES) {
    const pattern = agent[field];
    if (typeof pattern === "string") {
      screenRules = [...screenRules.filter((r) => r.kind !== kind), { id: `${agent.name}/${kind}`, kind, pattern }];
    }
  }
  return {
    name: agent.name,
    profile: agent.profile ?? null,
    command: agent.command ?? profile?.command ?? [],
    models: agent.models !== undefined && agent.models.length > 0 ? agent.models : (profile?.models ?? []),
    capacity: agent.capacity ?? 1,
    env: { ...profile?.env, ...agent.env },
    rules: screenRules,
    idleAfterMs: agent.idleAfterMs ?? profile?.idleAfterMs ?? 1500,
    stuckAfterMs: agent.stuckAfterMs ?? profile?.stuckAfterMs ?? 600_000,
    startupTimeoutMs: agent.startupTimeoutMs ?? profile?.startupTimeoutMs ?? 30_000,
    maxRestarts: agent.maxRestarts ?? 2,
    statusLines: profile?.statusLines ?? 15,
    restartBackoffMs: profile?.restartBackoffMs ?? 2000,
    rateLimitDelayMs: profile?.rateLimitDelayMs ?? 60_000,
    turnDone: profile?.turnDone ?? [],
    inputLine: profile?.inputLine ?? null,
    inputPlaceholder: profile?.inputPlaceholder ?? null,
    installHint: profile?.installHint ?? "see the agent's own install instructions",
  };
}
