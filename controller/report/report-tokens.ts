import { addUsage, costOf, NO_USAGE, totalTokens, type ModelPricing, type TokenUsage } from "../core/token-usage.js";

/** Prices by agent, then model (from the AgentPools' `pricing`). */
export type PricingTable = Readonly<Record<string, Readonly<Record<string, ModelPricing>>>>;

/** Tokens and cost of one session: `unknown` when its agent reported no usage (never 0), or has no price for its model. */
export interface SessionTokens {
  readonly tokens: TokenUsage | "unknown";
  readonly cost: number | "unknown";
}

/** Tokens and cost summed over sessions; `unknownSessions` counts those left out because their figure is unknown. */
export interface TokenTotals {
  /** Sum of the known sessions' tokens (all kinds); `unknown` when none is known. */
  readonly tokens: number | "unknown";
  readonly cost: number | "unknown";
  readonly unknownSessions: number;
}

/** A session's tokens (as its agent reported them) and cost (at its agent's price for its model). */
export function sessionTokens(s: { readonly id: string; readonly agent: string; readonly model: string | null }, usage: ReadonlyMap<string, TokenUsage>, pricing: PricingTable): SessionTokens {
  const u = usage.get(s.id);
  if (u === undefined) return { tokens: "unknown", cost: "unknown" };
  const price = s.model === null ? undefined : pricing[s.agent]?.[s.model];
  return { tokens: u, cost: price === undefined ? "unknown" : costOf(u, price) };
}

/** Sums sessions' tokens and costs, keeping unknown apart (a sum of nothing known is `unknown`, not 0). */
export function sumTokens(rows: readonly SessionTokens[]): TokenTotals {
  const known = rows.filter((r) => r.tokens !== "unknown");
  const priced = rows.filter((r) => r.cost !== "unknown");
  return {
    tokens: known.length === 0 ? "unknown" : totalTokens(known.map((r) => r.tokens as TokenUsage).reduce(addUsage, NO_USAGE)),
    cost: priced.length === 0 ? "unknown" : priced.reduce((n, r) => n + (r.cost as number), 0),
    unknownSessions: rows.length - known.length,
  };
}

/** `1234`, `unknown`, or `1234 (+2 unknown)`. */
export function formatTokens(t: TokenTotals | SessionTokens): string {
  const n = typeof t.tokens === "object" ? totalTokens(t.tokens) : t.tokens;
  const rest = "unknownSessions" in t && t.unknownSessions > 0 && n !== "unknown" ? ` (+${t.unknownSessions} unknown)` : "";
  return `${n}${rest}`;
}

/** Cost with 4 decimals, or `unknown`. */
export function formatCost(t: { readonly cost: number | "unknown" }): string {
  return t.cost === "unknown" ? "unknown" : t.cost.toFixed(4);
}
