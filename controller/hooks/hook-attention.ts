import type { StatusEvidence } from "../core/screen-status.js";
import type { AgentEvent } from "../../state/agent-events.repository.js";

/**
 * claude's Notification hook (DESIGN section 9): a permission prompt or an
 * input request the agent reports about itself makes the session `waiting`,
 * with the agent's own message as the evidence, until the agent reports
 * something later (a prompt, a finished turn) or the screen shows it busy
 * again (the person answered). Notifications that ask nothing (idle
 * reminders, "auth success") change nothing.
 */

/** `notification_type`s that mean a person must answer: claude 2.1 (a tool permission, an MCP elicitation), gemini 0.61 (a tool permission). */
const ASKING_TYPES: ReadonlySet<string> = new Set(["permission_prompt", "worker_permission_prompt", "elicitation_dialog", "ToolPermission"]);

/** Whether an agent event asks a person for something (older versions send no type: only the idle reminder is told apart). */
export function isAttentionRequest(event: AgentEvent): boolean {
  if (event.kind !== "needs-attention") return false;
  const type = event.payload.notification_type;
  if (typeof type === "string") return ASKING_TYPES.has(type);
  return !/waiting for your input/i.test(event.reason ?? "");
}

/** The evidence id of a hook-reported wait (e.g. `claude/hook/Notification`), as screen rules name theirs. */
export function isHookRule(ruleId: string | null): boolean {
  return ruleId !== null && ruleId.includes("/hook/");
}

/**
 * Pure: the session's status with its hooks taken into account. `events` are
 * the session's latest agent events, oldest first. When the last lifecycle
 * event is an attention request and the screen shows neither work nor an
 * error, the session is `waiting` on the agent's own words.
 */
export function withHookAttention(screen: StatusEvidence, events: readonly AgentEvent[]): StatusEvidence {
  const last = [...events].reverse().find((e) => e.kind !== "other" && (e.kind !== "needs-attention" || isAttentionRequest(e)));
  if (last === undefined || last.kind !== "needs-attention") return screen;
  if (screen.status === "running" || screen.status === "error") return screen;
  const message = (last.reason ?? String(last.payload.title ?? "the agent needs attention")).slice(0, 200);
  return { ...screen, status: "waiting", ruleId: last.evidenceId, ruleKind: "waiting", matched: message, settling: false };
}
