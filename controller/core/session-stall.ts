import type { ScreenRule, StallReason } from "./agent-profiles.js";
import type { SessionStatus } from "./screen-status.js";

/** Why a task's agent needs a person, what exactly to do, and the screen evidence. */
export interface Stall {
  readonly reason: StallReason;
  readonly message: string;
  readonly evidence: { readonly status: SessionStatus; readonly rule: string | null; readonly matched: string | null; readonly forMs: number };
}

export interface StallInput {
  readonly agent: { readonly name: string; readonly profile: string | null; readonly rules: readonly ScreenRule[]; readonly stuckAfterMs: number };
  readonly status: SessionStatus;
  readonly ruleId: string | null;
  readonly matched: string | null;
  /** How long the session has shown this status (ms). */
  readonly forMs: number;
  /** The command a person runs to reach the session (`tmux -L gaffer attach -t ...`). */
  readonly attach: string;
}

/** The environment variable each CLI reads its API key from (named in NeedsLogin messages). */
const KEY_ENV: Readonly<Record<string, string>> = { claude: "ANTHROPIC_API_KEY", codex: "OPENAI_API_KEY", gemini: "GEMINI_API_KEY", opencode: "the provider's API key variable", aider: "the model's API key variable" };

function message(reason: StallReason, input: StallInput): string {
  const who = input.agent.profile ?? input.agent.name;
  const attach = `attach with \`${input.attach}\``;
  const seen = input.matched === null ? "" : ` ("${input.matched}")`;
  const lasted = `${Math.round(input.forMs / 1000)} s`;
  switch (reason) {
    case "NeedsTrust": return `${who} asks whether to trust the worktree folder${seen}: ${attach} and answer it yourself (gaffer never answers a dialog for you)`;
    case "NeedsLogin": return `${who} is not logged in${seen}: ${attach} and sign in${who === "claude" ? " (run /login)" : ""}, or set ${KEY_ENV[who] ?? "its API key"} in the AgentPool env`;
    case "NeedsApiKeyConfirmation": return `${who} asks whether to use the API key from its environment${seen}: ${attach} and answer it`;
    case "ConnectionError": return `${who} cannot reach its API${seen} for ${lasted}: check the network and the agent's base URL and key; ${attach} to see it`;
    case "AgentError": return `${who} has shown an error${seen} for ${lasted}: ${attach} to see it; the session is restarted by its restart policy`;
    case "UnrecognizedScreen": return `${who} has shown a screen no rule recognises for ${lasted}: ${attach} to see it; the session is restarted by its restart policy`;
    case "AgentNotInstalled": return `${who} is not installed`;
    case "Question": return `${who} asks a question${seen}: ${attach} and answer it`;
  }
}

/**
 * Pure: whether a session's screen means its task needs a person. A waiting
 * rule does at once (its rule's reason, else `Question`); an error or an
 * unrecognised screen does once it has lasted the agent's `stuckAfterMs`.
 */
export function stallOf(input: StallInput): Stall | null {
  const rule = input.ruleId === null ? undefined : input.agent.rules.find((r) => r.id === input.ruleId);
  let reason: StallReason | null = null;
  if (input.status === "waiting") reason = rule?.reason ?? "Question";
  else if (input.status === "error" && rule?.kind !== "rateLimit" && input.forMs >= input.agent.stuckAfterMs) reason = rule?.reason ?? "AgentError";
  else if (input.status === "unknown" && input.forMs >= input.agent.stuckAfterMs) reason = "UnrecognizedScreen";
  if (reason === null) return null;
  return { reason, message: message(reason, input), evidence: { status: input.status, rule: input.ruleId, matched: input.matched, forMs: input.forMs } };
}
