/** What gaffer keeps of one hook call (pure: payload in, fields out). */
export interface HookFields {
  /** The agent's event name: the hook's own for claude, the payload's `type` for codex's `notify`. */
  readonly event: string;
  /** The submitted prompt's text (prompt-submitted events; codex reports the turn's input messages). */
  readonly prompt: string | null;
  /** The agent's own words about why it stopped or needs attention. */
  readonly reason: string | null;
  readonly transcriptPath: string | null;
  /** The payload as stored (long strings cut). */
  readonly payload: Record<string, unknown>;
}

const MAX_STRING = 4000;

const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

function bounded(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value;
  if (depth > 4) return null;
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => bounded(v, depth + 1));
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).slice(0, 50).map(([k, v]) => [k, bounded(v, depth + 1)]));
  return value;
}

/** Parses a hook's input (JSON text; anything else is kept as `raw`). */
export function parseHookInput(text: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text) as unknown;
    if (value !== null && typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // Not JSON: kept as text below.
  }
  return text.trim() === "" ? {} : { raw: text };
}

/**
 * Reads the fields gaffer uses from a hook payload. claude: `prompt`,
 * `transcript_path`, `message` (Notification), `error`/`last_assistant_message`
 * (StopFailure). codex `notify`: `type`, `input-messages`, `last-assistant-message`.
 */
export function hookFields(agent: string, event: string, payload: Record<string, unknown>): HookFields {
  const name = event === "notify" ? (str(payload.type) ?? "notify") : event;
  const inputs = Array.isArray(payload["input-messages"]) ? (payload["input-messages"] as unknown[]).filter((m): m is string => typeof m === "string") : [];
  const prompt = str(payload.prompt) ?? (inputs.length > 0 ? inputs.join("\n") : null);
  const reason = name === "Notification" ? str(payload.message) : name === "StopFailure" ? (str(payload.error) ?? str(payload.error_details) ?? str(payload.last_assistant_message) ?? str(payload.message)) : null;
  void agent;
  return { event: name, prompt, reason, transcriptPath: str(payload.transcript_path), payload: bounded(payload) as Record<string, unknown> };
}

/** Whitespace-insensitive comparison of a submitted prompt with the text gaffer sent. */
export function samePrompt(reported: string, sent: string): boolean {
  const norm = (s: string): string => s.replace(/\s+/g, " ").trim();
  return norm(reported) === norm(sent) || norm(reported).includes(norm(sent));
}
