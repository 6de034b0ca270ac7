import { createHash } from "node:crypto";
import type { RuleKind, ScreenRule } from "./agent-profiles.js";

/** The status hint of a session, from its screen. */
export type SessionStatus = "idle" | "running" | "waiting" | "error" | "unknown";

export interface ClassifyOptions {
  /** How long the screen has been unchanged (ms). */
  readonly stableForMs: number;
  /** A ready screen counts as idle once unchanged this long (ms). */
  readonly idleAfterMs: number;
  /** Match only the last N non-blank lines (0 or absent: the whole text). */
  readonly tailLines?: number;
}

/** Why a status was given: stored with every status change. */
export interface StatusEvidence {
  readonly status: SessionStatus;
  /** Id of the rule that decided, e.g. `claude/busy/1`; null when nothing matched. */
  readonly ruleId: string | null;
  readonly ruleKind: RuleKind | null;
  /** The screen line the rule matched (trimmed, at most 200 chars). */
  readonly matched: string | null;
  /** sha256 of the whole screen text, first 16 hex digits. */
  readonly screenHash: string;
  /** True when a ready screen is not yet stable for idleAfterMs (status `running`). */
  readonly settling: boolean;
}

/** Order in which kinds decide: a question, then a limit (often worded as an error, and it must trigger backoff), then an error, busy, ready. */
const PRECEDENCE: readonly RuleKind[] = ["waiting", "rateLimit", "error", "busy", "ready"];

const STATUS_OF: Readonly<Record<RuleKind, SessionStatus>> = {
  waiting: "waiting",
  error: "error",
  rateLimit: "error",
  busy: "running",
  ready: "idle",
};

export function hashScreen(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

/** The last `n` non-blank lines (all lines when n is 0). */
export function tailOf(text: string, n: number): string[] {
  const lines = text.split("\n").map((l) => l.replace(/\s+$/, ""));
  const nonBlank = lines.filter((l) => l !== "");
  return n > 0 ? nonBlank.slice(-n) : nonBlank;
}

const compiled = new Map<string, RegExp>();

function regexOf(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (re === undefined) {
    re = new RegExp(pattern);
    compiled.set(pattern, re);
  }
  return re;
}

/** The first rule of `kind` that matches a line (last line first), with that line. */
function findMatch(lines: readonly string[], rules: readonly ScreenRule[], kind: RuleKind): { rule: ScreenRule; line: string } | null {
  for (const rule of rules) {
    if (rule.kind !== kind) continue;
    const re = regexOf(rule.pattern);
    for (let i = lines.length - 1; i >= 0; i--) {
      if (re.test(lines[i]!)) return { rule, line: lines[i]!.trim().slice(0, 200) };
    }
  }
  return null;
}

/**
 * Pure status classifier. Precedence: waiting > rateLimit > error > busy >
 * ready; a ready match is `idle` only once the screen has been stable for
 * `idleAfterMs` (before that it is `running`, settling). When nothing
 * matches the answer is `unknown`, never a guessed `idle`.
 */
export function classify(screenText: string, rules: readonly ScreenRule[], options: ClassifyOptions): StatusEvidence {
  const screenHash = hashScreen(screenText);
  const lines = tailOf(screenText, options.tailLines ?? 0);
  for (const kind of PRECEDENCE) {
    const match = findMatch(lines, rules, kind);
    if (match === null) continue;
    const settling = kind === "ready" && options.stableForMs < options.idleAfterMs;
    return { status: settling ? "running" : STATUS_OF[kind], ruleId: match.rule.id, ruleKind: kind, matched: match.line, screenHash, settling };
  }
  return { status: "unknown", ruleId: null, ruleKind: null, matched: null, screenHash, settling: false };
}

const UNIT_MS: Readonly<Record<string, number>> = { s: 1000, sec: 1000, second: 1000, m: 60_000, min: 60_000, minute: 60_000, h: 3_600_000, hour: 3_600_000 };

/**
 * The reset time a rate-limit line shows: an ISO time (`resets at 2025-01-01T10:00:00Z`),
 * or a delay (`in 30 s`, `try again in 5 minutes`); null when it shows none.
 */
export function parseResetTime(line: string, now: number): number | null {
  const iso = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?/.exec(line);
  if (iso !== null) {
    const at = Date.parse(iso[0]);
    if (!Number.isNaN(at)) return at;
  }
  const delay = /\bin\s+(\d+(?:\.\d+)?)\s*(s|sec|second|m|min|minute|h|hour)s?\b/i.exec(line);
  if (delay !== null) return now + Number(delay[1]) * UNIT_MS[delay[2]!.toLowerCase()]!;
  return null;
}
