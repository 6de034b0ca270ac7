import { packagePath } from "../paths.js";
import type { AgentProfileName, AgentSpec } from "./manifest-types.js";

/** Status kinds a screen rule can signal. */
export type RuleKind = "ready" | "busy" | "waiting" | "error" | "rateLimit";

/** One screen rule: its id is stored as evidence when it matches. */
export interface ScreenRule {
  /** `<profile>/<kind>/<n>` or `<agent>/<kind>` for manifest overrides. */
  readonly id: string;
  readonly kind: RuleKind;
  /** Regular expression source, matched against the pane text (multiline). */
  readonly pattern: string;
}

/** A built-in agent profile, versioned with gaffer. */
export interface AgentProfile {
  readonly name: AgentProfileName;
  /** Version of the CLI whose screens the patterns were taken from. */
  readonly seenWith: string;
  readonly command: readonly string[];
  readonly models: readonly string[];
  readonly rules: readonly ScreenRule[];
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

/** The bundled scripted agent's entry point. */
export const SCRIPTED_AGENT_PATH = packagePath("controller", "agents", "scripted-agent.js");

const RATE_LIMIT = String.raw`\b429\b|[Rr]ate ?[Ll]imit|usage limit reached|Too Many Requests|RESOURCE_EXHAUSTED`;

/** Defaults shared by the real CLIs' profiles. */
const REAL_CLI = { idleAfterMs: 2000, stuckAfterMs: 900_000, startupTimeoutMs: 30_000, statusLines: 15, restartBackoffMs: 2000, rateLimitDelayMs: 60_000, env: {} } as const;

function rules(profile: AgentProfileName, byKind: Partial<Record<RuleKind, readonly string[]>>): ScreenRule[] {
  return Object.entries(byKind).flatMap(([kind, patterns]) =>
    (patterns ?? []).map((pattern, n) => ({ id: `${profile}/${kind}/${n + 1}`, kind: kind as RuleKind, pattern })),
  );
}

export const AGENT_PROFILES: Readonly<Record<AgentProfileName, AgentProfile>> = {
  claude: {
    name: "claude",
    seenWith: "claude 2.1.197",
    // acceptEdits: edits inside the worktree need no approval; commands still ask (a `waiting` screen).
    command: ["claude", "--model", "{model}", "--permission-mode", "acceptEdits"],
    models: ["sonnet", "opus", "haiku"],
    rules: rules("claude", {
      busy: [String.raw`esc to interrupt`, String.raw`ctrl\+c to interrupt`],
      waiting: [String.raw`Do you want to `, String.raw`Would you like `, String.raw`❯ 1\. Yes`, String.raw`Do you trust the files in this folder\?`, String.raw`Yes, I trust this folder`, String.raw`No, and tell Claude`, String.raw`esc to cancel`, String.raw`Do you want to use this API key\?`],
      error: [String.raw`Unable to connect to Anthropic services`, String.raw`API Error`, String.raw`Not logged in`],
      rateLimit: [RATE_LIMIT],
      // In acceptEdits mode the footer shows the mode instead of "? for shortcuts".
      ready: [String.raw`\? for shortcuts`, String.raw`⏵⏵ accept edits on`],
    }),
    ...REAL_CLI,
  },
  codex: {
    name: "codex",
    seenWith: "codex 0.169",
    command: ["codex", "-m", "{model}"],
    models: ["gpt-5-codex", "gpt-5"],
    rules: rules("codex", {
      busy: [String.raw`esc to interrupt`, String.raw`• Working`],
      waiting: [String.raw`[Pp]ress enter to confirm or esc to cancel`, String.raw`[Aa]llow command\?`, String.raw`\[y/n\]`, String.raw`Trust this folder\?`, String.raw`Do you trust`, String.raw`Sign in with ChatGPT`, String.raw`Paste or type your API key`, String.raw`Would you like to run`],
      error: [String.raw`Reconnecting\.\.\. waiting for network`, String.raw`\b40[13] (Unauthorized|Forbidden)`, String.raw`unexpected status 40[13]`],
      rateLimit: [RATE_LIMIT],
      ready: [String.raw`\? for shortcuts`, String.raw`^\s*›`],
    }),
    ...REAL_CLI,
  },
  gemini: {
    name: "gemini",
    seenWith: "gemini 0.61",
    command: ["gemini", "--model", "{model}"],
    models: ["gemini-2.5-pro", "gemini-2.5-flash"],
    rules: rules("gemini", {
      busy: [String.raw`\(esc to cancel`],
      waiting: [String.raw`│ Allow execution`, String.raw`│ Apply this change`, String.raw`Yes, allow once`, String.raw`Do you trust`, String.raw`Trust folder \(`, String.raw`How would you like to authenticate`, String.raw`Enter Gemini API Key`, String.raw`\(Use Enter to select\)`],
      error: [String.raw`✕ \[API Error`],
      rateLimit: [RATE_LIMIT],
      ready: [String.raw`\? for shortcuts`, String.raw`Type your message`],
    }),
    ...REAL_CLI,
  },
  aider: {
    name: "aider",
    seenWith: "aider 0.86",
    command: ["aider", "--model", "{model}"],
    models: ["sonnet", "gpt-4o"],
    rules: rules("aider", {
      waiting: [String.raw`\(Y\)es/\(N\)o`],
      error: [String.raw`litellm\.\w+Error`, String.raw`\b40[13] (Unauthorized|Forbidden)`],
      rateLimit: [RATE_LIMIT],
      ready: [String.raw`^(\w+ )?> ?$`],
    }),
    ...REAL_CLI,
  },
  opencode: {
    name: "opencode",
    seenWith: "opencode 1.18",
    command: ["opencode", "-m", "{model}"],
    models: ["anthropic/claude-sonnet-4-5"],
    rules: rules("opencode", {
      busy: [String.raw`esc interrupt`],
      waiting: [String.raw`△ Permission required`],
      error: [String.raw`Cannot connect to API`],
      rateLimit: [RATE_LIMIT],
      ready: [String.raw`Ask anything`],
    }),
    ...REAL_CLI,
  },
  scripted: {
    name: "scripted",
    seenWith: "gaffer scripted agent 1",
    command: [process.execPath, SCRIPTED_AGENT_PATH, "--model", "{model}", "--session", "{session}"],
    models: ["scripted-1"],
    rules: rules("scripted", {
      busy: [String.raw`^Working\.\.\.`],
      waiting: [String.raw`^\? .*\[y/n\]\s*$`],
      error: [String.raw`^ERROR: `],
      rateLimit: [String.raw`^RATE LIMITED`],
      ready: [String.raw`^scripted> ?$`],
    }),
    idleAfterMs: 200,
    stuckAfterMs: 120_000,
    startupTimeoutMs: 10_000,
    // Its last non-blank line is always the state: prompt, `Working...`, a question, an error or a limit.
    statusLines: 1,
    restartBackoffMs: 200,
    rateLimitDelayMs: 5_000,
    env: {},
  },
};

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
    statusLines: profile?.statusLines ?? REAL_CLI.statusLines,
    restartBackoffMs: profile?.restartBackoffMs ?? REAL_CLI.restartBackoffMs,
    rateLimitDelayMs: profile?.rateLimitDelayMs ?? REAL_CLI.rateLimitDelayMs,
  };
}
