import type { Generated, Insertable, Selectable } from "kysely";

/** One lifecycle event an agent reported through its hook (migration 0013); append-only. */
export interface AgentEventsTable {
  id: Generated<number>;
  session_id: string;
  /** The agent profile that reported it (`claude`, `codex`). */
  agent: string;
  /** The hook's event name as the agent calls it (`UserPromptSubmit`, `Stop`, `agent-turn-complete`). */
  event: string;
  /** `<agent>/hook/<event>`: stored as evidence the way screen rules store their ids. */
  evidence_id: string;
  /** The submitted prompt's text (prompt-submitted events). */
  prompt: string | null;
  /** The agent's own reason (notification message, error), if any. */
  reason: string | null;
  /** The agent's transcript file, when the event names it. */
  transcript_path: string | null;
  /** JSON token usage totals of the session so far, when read at this event. */
  usage: string | null;
  /** The hook's JSON payload (bounded). */
  payload: string;
  received_at: string;
}

export type AgentEventRow = Selectable<AgentEventsTable>;
export type NewAgentEventRow = Insertable<AgentEventsTable>;
