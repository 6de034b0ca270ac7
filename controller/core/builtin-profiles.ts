import { packagePath } from "../paths.js";
import type { AgentProfileName } from "./manifest-types.js";
import type { AgentProfile, RuleKind, ScreenRule, StallReason } from "./agent-profiles.js";

/** The bundled scripted agent's entry point. */
export const SCRIPTED_AGENT_PATH = packagePath("controller", "agents", "scripted-agent.js");

const RATE_LIMIT = String.raw`\b429\b|[Rr]ate ?[Ll]imit|usage limit reached|Too Many Requests|RESOURCE_EXHAUSTED`;

/** Defaults shared by the real CLIs' profiles (stuck well under 15 minutes: a retry loop is seen in 5). */
const REAL_CLI = { idleAfterMs: 2000, stuckAfterMs: 300_000, startupTimeoutMs: 30_000, statusLines: 15, restartBackoffMs: 2000, rateLimitDelayMs: 60_000, env: {} } as const;

/** A pattern, or a pattern with the reason a person is needed when it shows (waiting and error rules). */
type Pattern = string | readonly [string, StallReason];

function rules(profile: AgentProfileName, byKind: Partial<Record<RuleKind, readonly Pattern[]>>): ScreenRule[] {
  return Object.entries(byKind).flatMap(([kind, patterns]) =>
    (patterns ?? []).map((p, n) => {
      const [pattern, reason] = typeof p === "string" ? [p, undefined] : p;
      return { id: `${profile}/${kind}/${n + 1}`, kind: kind as RuleKind, pattern, ...(reason === undefined ? {} : { reason }) };
    }),
  );
}

// NOTE: within a kind the first listed rule that matches decides, so specific dialogs come before generic questions.
export const AGENT_PROFILES: Readonly<Record<AgentProfileName, AgentProfile>> = {
  claude: {
    name: "claude",
    seenWith: "claude 2.1.197",
    // acceptEdits: edits inside the worktree need no approval; commands still ask (a `waiting` screen).
    command: ["claude", "--model", "{model}", "--permission-mode", "acceptEdits"],
    models: ["sonnet", "opus", "haiku"],
    installHint: "npm install -g @anthropic-ai/claude-code",
    rules: rules("claude", {
      busy: [String.raw`esc to interrupt`, String.raw`ctrl\+c to interrupt`],
      waiting: [
        [String.raw`Do you trust the files in this folder\?`, "NeedsTrust"], [String.raw`Yes, I trust this folder`, "NeedsTrust"],
        [String.raw`Do you want to use this API key\?`, "NeedsApiKeyConfirmation"],
        [String.raw`Select login method`, "NeedsLogin"], [String.raw`Claude account with subscription`, "NeedsLogin"],
        // No key and no login: claude still shows its prompt, with this in the footer; any prompt would fail.
        [String.raw`Not logged in · Run /login`, "NeedsLogin"],
        [String.raw`Do you want to `, "Question"], [String.raw`Would you like `, "Question"], [String.raw`❯ 1\. Yes`, "Question"], [String.raw`No, and tell Claude`, "Question"], [String.raw`esc to cancel`, "Question"],
      ],
      error: [[String.raw`Unable to connect to Anthropic services`, "ConnectionError"], [String.raw`Unable to connect to API`, "ConnectionError"], [String.raw`Not logged in`, "NeedsLogin"], String.raw`API Error`],
      rateLimit: [RATE_LIMIT],
      // With text typed in the input box the shortcuts hint is gone; the effort indicator stays.
      // In acceptEdits mode the footer shows the mode instead of "? for shortcuts".
      ready: [String.raw`\? for shortcuts`, String.raw`⏵⏵ accept edits on`, String.raw`· /effort\s*$`],
    }),
    turnDone: [String.raw`^\s*✻ \S+ for \d+(\.\d+)?[smh]`],
    inputLine: String.raw`^❯ ?(.*)$`,
    inputPlaceholder: null,
    ...REAL_CLI,
  },
  codex: {
    name: "codex",
    seenWith: "codex 0.171.0",
    // workspace-write: edits inside the worktree need no approval; commands outside it still ask.
    command: ["codex", "-m", "{model}", "--sandbox", "workspace-write"],
    models: ["gpt-5-codex", "gpt-5"],
    installHint: "npm install -g @openai/codex",
    rules: rules("codex", {
      busy: [String.raw`esc to interrupt`],
      waiting: [
        [String.raw`Trust this folder\?`, "NeedsTrust"], [String.raw`Do you trust`, "NeedsTrust"],
        [String.raw`Sign in with ChatGPT`, "NeedsLogin"], [String.raw`Sign in another way`, "NeedsLogin"], [String.raw`Finish signing in via your browser`, "NeedsLogin"], [String.raw`Sign in with Device Code`, "NeedsLogin"],
        [String.raw`Paste or type your API key`, "NeedsLogin"], [String.raw`Use an OpenAI API key`, "NeedsLogin"],
        [String.raw`[Pp]ress enter to confirm or esc to cancel`, "Question"], [String.raw`[Aa]llow command\?`, "Question"], [String.raw`\[y/n\]`, "Question"], [String.raw`Would you like to run`, "Question"],
        [String.raw`[Pp]ress enter to continue`, "Question"], [String.raw`Warnings · \d+ of \d+`, "Question"], [String.raw`esc dismiss & close`, "Question"],
      ],
      error: [[String.raw`Reconnecting\.\.\. waiting for network`, "ConnectionError"], [String.raw`stream disconnected before completion`, "ConnectionError"], [String.raw`\b40[13] (Unauthorized|Forbidden)`, "NeedsLogin"], [String.raw`unexpected status 40[13]`, "NeedsLogin"]],
      rateLimit: [RATE_LIMIT],
      // NOTE: before its trust dialog codex 0.171 draws its input box and "? for shortcuts" for ~2 s; only the
      // status line under the input box ("<model> <effort> · <cwd>") says the session is really up.
      ready: [String.raw`^\s*\S+ (?:default|minimal|low|medium|high|xhigh) · [/~]`, String.raw`Conversation interrupted`],
    }),
    turnDone: [String.raw`Worked for \d`],
    inputLine: String.raw`^› ?(.*)$`,
    inputPlaceholder: String.raw`^(Ask Codex to do anything|Implement \{feature\}|Find and fix a bug in @filename|Explain this codebase|Summarize recent commits|Write tests for @filename|Improve documentation in @filename|Run /review on my current changes|Use /skills to list available skills)$`,
    ...REAL_CLI,
  },
  gemini: {
    name: "gemini",
    seenWith: "gemini 0.61.0",
    command: ["gemini", "--model", "{model}"],
    models: ["gemini-2.5-pro", "gemini-2.5-flash"],
    installHint: "npm install -g @google/gemini-cli",
    rules: rules("gemini", {
      busy: [String.raw`\(esc to cancel`],
      waiting: [
        [String.raw`Do you trust`, "NeedsTrust"], [String.raw`Trust folder \(`, "NeedsTrust"],
        [String.raw`How would you like to authenticate`, "NeedsLogin"], [String.raw`Enter Gemini API Key`, "NeedsLogin"],
        [String.raw`│ Allow execution`, "Question"], [String.raw`│ Apply this change`, "Question"], [String.raw`Yes, allow once`, "Question"], [String.raw`\(Use Enter to select\)`, "Question"],
      ],
      error: [[String.raw`✕ \[API Error`, "ConnectionError"]],
      rateLimit: [RATE_LIMIT],
      ready: [String.raw`\? for shortcuts`, String.raw`Type your message`, String.raw`Shift\+Tab to accept edits`, String.raw`^\s*workspace \(/directory\)`],
    }),
    turnDone: [],
    inputLine: String.raw`^\s*│? ?> ?(.*?)\s*│?$`,
    inputPlaceholder: String.raw`^Type your message`,
    ...REAL_CLI,
  },
  aider: {
    name: "aider",
    seenWith: "aider 0.86",
    command: ["aider", "--model", "{model}"],
    models: ["sonnet", "gpt-4o"],
    installHint: "pipx install aider-chat",
    rules: rules("aider", {
      waiting: [[String.raw`\(Y\)es/\(N\)o`, "Question"]],
      error: [String.raw`litellm\.\w+Error`, [String.raw`\b40[13] (Unauthorized|Forbidden)`, "NeedsLogin"]],
      rateLimit: [RATE_LIMIT],
      ready: [String.raw`^(\w+ )?> ?$`],
    }),
    turnDone: [String.raw`^Tokens: .* sent, .* received`],
    inputLine: String.raw`^(?:\w+ )?> ?(.*)$`,
    inputPlaceholder: null,
    ...REAL_CLI,
  },
  opencode: {
    name: "opencode",
    seenWith: "opencode 1.18.33",
    command: ["opencode", "-m", "{model}"],
    models: ["anthropic/claude-sonnet-4-5"],
    installHint: "npm install -g opencode-ai",
    rules: rules("opencode", {
      busy: [String.raw`esc interrupt`],
      waiting: [[String.raw`△ Permission required`, "Question"], [String.raw`Connect a provider`, "NeedsLogin"], [String.raw`to get a key$`, "NeedsLogin"]],
      error: [[String.raw`Cannot connect to API`, "ConnectionError"]],
      rateLimit: [RATE_LIMIT],
      ready: [String.raw`Ask anything`, String.raw`ctrl\+p commands`],
    }),
    turnDone: [],
    // Its input box has several `┃` lines (the prompt, then the agent and model): not read as one input line.
    inputLine: null,
    inputPlaceholder: null,
    ...REAL_CLI,
  },
  scripted: {
    name: "scripted",
    seenWith: "gaffer scripted agent 1",
    command: [process.execPath, SCRIPTED_AGENT_PATH, "--model", "{model}", "--session", "{session}"],
    models: ["scripted-1"],
    installHint: "it ships with gaffer: reinstall gaffer",
    rules: rules("scripted", {
      busy: [String.raw`^Working\.\.\.`],
      // A start-up trust dialog (`--trust-file`) is not an ordinary question.
      waiting: [[String.raw`^\? (?!Do you trust).*\[y/n\]\s*$`, "Question"], [String.raw`^\? Do you trust the files in this folder\?`, "NeedsTrust"]],
      error: [String.raw`^ERROR: `],
      rateLimit: [String.raw`^RATE LIMITED`],
      ready: [String.raw`^scripted> ?$`],
    }),
    turnDone: [String.raw`^DONE \d+$`],
    inputLine: String.raw`^scripted> ?(.*)$`,
    inputPlaceholder: null,
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
