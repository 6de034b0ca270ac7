import type { Ledger } from "./ledger.js";
import { nowIso } from "./ledger.js";
import type { AgentEventRow } from "./agent-events.table.js";

/** Token counts of one agent turn, as stored (core/token-usage.ts's TokenUsage has this shape). */
export interface TokenCounts {
  readonly input: number;
  readonly output: number;
  readonly cacheRead: number;
  readonly cacheWrite: number;
}

/** One lifecycle event an agent reported about itself (through `gaffer hook`). */
export interface AgentEvent {
  /** Increasing: pass the last one seen as `sinceId` to read only newer events. */
  readonly id: number;
  readonly sessionId: string;
  /** The agent profile that reported it (`claude`, `codex`). */
  readonly agent: string;
  /** The agent's own event name (`SessionStart`, `UserPromptSubmit`, `Stop`, `StopFailure`, `Notification`, `agent-turn-complete`). */
  readonly event: string;
  /** `<agent>/hook/<event>`, e.g. `claude/hook/Stop`. */
  readonly evidenceId: string;
  /** What gaffer makes of it (see `hookKind`). */
  readonly kind: AgentEventKind;
  readonly prompt: string | null;
  readonly reason: string | null;
  readonly transcriptPath: string | null;
  /** Session token totals read from the transcript at this event, if any. */
  readonly usage: TokenCounts | null;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly receivedAt: string;
}

/** The lifecycle meaning of an agent event. */
export type AgentEventKind = "started" | "prompt-submitted" | "turn-finished" | "needs-attention" | "failed" | "other";

const KIND_OF: Readonly<Record<string, AgentEventKind>> = {
  SessionStart: "started",
  UserPromptSubmit: "prompt-submitted",
  Stop: "turn-finished",
  "agent-turn-complete": "turn-finished",
  Notification: "needs-attention",
  StopFailure: "failed",
  // gemini-cli
  BeforeAgent: "prompt-submitted",
  AfterAgent: "turn-finished",
};

/** What gaffer makes of an agent's event name. */
export function hookKind(event: string): AgentEventKind {
  return KIND_OF[event] ?? "other";
}

/** What `gaffer hook` appends. */
export interface NewAgentEvent {
  readonly sessionId: string;
  readonly agent: string;
  readonly event: string;
  readonly prompt?: string | null;
  readonly reason?: string | null;
  readonly transcriptPath?: string | null;
  readonly usage?: TokenCounts | null;
  readonly payload: Readonly<Record<string, unknown>>;
}

/** Appends one agent event; returns its id. */
export async function appendAgentEvent(db: Ledger, e: NewAgentEvent): Promise<number> {
  const row = await db
    .insertInto("agent_events")
    .values({ session_id: e.sessionId, agent: e.agent, event: e.event, evidence_id: `${e.agent}/hook/${e.event}`, prompt: e.prompt ?? null, reason: e.reason ?? null, transcript_path: e.transcriptPath ?? null, usage: e.usage == null ? null : JSON.stringify(e.usage), payload: JSON.stringify(e.payload), received_at: nowIso() })
    .returning("id")
    .executeTakeFirstOrThrow();
  return row.id;
}

function toEvent(row: AgentEventRow): AgentEvent {
  return {
    id: row.id, sessionId: row.session_id, agent: row.agent, event: row.event, evidenceId: row.evidence_id, kind: hookKind(row.event),
    prompt: row.prompt, reason: row.reason, transcriptPath: row.transcript_path,
    usage: row.usage === null ? null : (JSON.parse(row.usage) as TokenCounts), payload: JSON.parse(row.payload) as Record<string, unknown>, receivedAt: row.received_at,
  };
}

/**
 * The seam for the delivery protocol: a session's agent events with an id
 * above `sinceId` (0: all), oldest first. Poll with the last id seen.
 */
export async function readAgentEvents(db: Ledger, sessionId: string, sinceId = 0): Promise<AgentEvent[]> {
  const rows = await db.selectFrom("agent_events").selectAll().where("session_id", "=", sessionId).where("id", ">", sinceId).orderBy("id").execute();
  return rows.map(toEvent);
}

/** A session's latest `limit` agent events, oldest first (what a status look needs). */
export async function readRecentAgentEvents(db: Ledger, sessionId: string, limit: number): Promise<AgentEvent[]> {
  const rows = await db.selectFrom("agent_events").selectAll().where("session_id", "=", sessionId).orderBy("id", "desc").limit(limit).execute();
  return rows.reverse().map(toEvent);
}

/** The highest agent event id of a session (0 when none): where a delivery starts reading. */
export async function lastAgentEventId(db: Ledger, sessionId: string): Promise<number> {
  const row = await db.selectFrom("agent_events").select((eb) => eb.fn.max("id").as("max")).where("session_id", "=", sessionId).executeTakeFirst();
  return Number(row?.max ?? 0);
}

/** Each session's latest reported token usage (sessions that never reported one are absent). */
export async function latestUsageBySession(db: Ledger): Promise<Map<string, TokenCounts>> {
  const rows = await db.selectFrom("agent_events").select(["session_id", "usage"]).where("usage", "is not", null).orderBy("id").execute();
  return new Map(rows.map((r) => [r.session_id, JSON.parse(r.usage!) as TokenCounts]));
}
