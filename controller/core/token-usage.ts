/** Tokens an agent session used, as its own transcript reports them. */
export interface TokenUsage {
  readonly input: number;
  readonly output: number;
  /** Prompt tokens read from the provider's cache. */
  readonly cacheRead: number;
  /** Prompt tokens written to the provider's cache. */
  readonly cacheWrite: number;
}

/** Prices of one model in a currency unit per million tokens (AgentPool `pricing`). */
export interface ModelPricing {
  readonly inputPerMTok: number;
  readonly outputPerMTok: number;
  readonly cacheReadPerMTok?: number;
  readonly cacheWritePerMTok?: number;
}

export const NO_USAGE: TokenUsage = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };

/** Adds two usages field by field. */
export function addUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  return { input: a.input + b.input, output: a.output + b.output, cacheRead: a.cacheRead + b.cacheRead, cacheWrite: a.cacheWrite + b.cacheWrite };
}

/** All tokens of a usage. */
export function totalTokens(u: TokenUsage): number {
  return u.input + u.output + u.cacheRead + u.cacheWrite;
}

const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : 0);

/**
 * Sums the `usage` of every assistant message in a claude transcript (JSONL).
 * NOTE: claude writes one line per content block of a message, each repeating
 * the message's usage: lines are counted once per message id. Unreadable
 * lines are skipped; null when no line carries a usage.
 */
export function usageFromClaudeTranscript(jsonl: string): TokenUsage | null {
  const seen = new Map<string, TokenUsage>();
  for (const line of jsonl.split("\n")) {
    if (!line.includes('"usage"')) continue;
    let entry: { message?: { id?: string; usage?: Record<string, unknown> }; requestId?: string; uuid?: string };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue;
    }
    const u = entry.message?.usage;
    if (u === undefined) continue;
    const key = entry.message?.id ?? entry.requestId ?? entry.uuid ?? String(seen.size);
    seen.set(key, { input: num(u.input_tokens), output: num(u.output_tokens), cacheRead: num(u.cache_read_input_tokens), cacheWrite: num(u.cache_creation_input_tokens) });
  }
  return seen.size === 0 ? null : [...seen.values()].reduce(addUsage, NO_USAGE);
}

/**
 * The last cumulative `token_count` a codex session file (JSONL rollout)
 * reports (`info.total_token_usage`); null when it reports none.
 */
export function usageFromCodexRollout(jsonl: string): TokenUsage | null {
  let last: TokenUsage | null = null;
  for (const line of jsonl.split("\n")) {
    if (!line.includes("token_count")) continue;
    try {
      const entry = JSON.parse(line) as { payload?: { type?: string; info?: { total_token_usage?: Record<string, unknown> } | null } };
      const total = entry.payload?.type === "token_count" ? entry.payload.info?.total_token_usage : undefined;
      if (total === undefined) continue;
      const cached = num(total.cached_input_tokens);
      last = { input: Math.max(0, num(total.input_tokens) - cached), output: num(total.output_tokens), cacheRead: cached, cacheWrite: 0 };
    } catch {
      continue;
    }
  }
  return last;
}

/** The cost of a usage at a model's prices (cache prices default to the input price). */
export function costOf(u: TokenUsage, p: ModelPricing): number {
  const perTok = (perM: number): number => perM / 1_000_000;
  return u.input * perTok(p.inputPerMTok) + u.output * perTok(p.outputPerMTok) + u.cacheRead * perTok(p.cacheReadPerMTok ?? p.inputPerMTok) + u.cacheWrite * perTok(p.cacheWritePerMTok ?? p.inputPerMTok);
}
