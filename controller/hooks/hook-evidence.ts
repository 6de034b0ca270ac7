import { transitionCommand } from "../../state/commands.repository.js";
import { readAgentEvents } from "../../state/agent-events.repository.js";
import type { Ledger } from "../../state/ledger.js";
import { geminiHooksBlocker } from "./gemini-hooks.js";
import { samePrompt } from "./hook-payload.js";

/**
 * The delivery protocol's view of agent hooks (DESIGN section 9): a prompt is
 * `acknowledged` when the agent reports it submitted with the same text, and
 * `done` (or `failed`) when the agent reports the turn over. Evidence names
 * the hook (`claude/hook/UserPromptSubmit`) the way screen rules do.
 */

/**
 * Whether sessions of this agent report their start and each submitted prompt
 * through hooks (claude; gemini when its settings file can be used, see
 * gemini-hooks.ts), started with a control dir. codex's `notify` reports only
 * finished turns (also of its side threads, e.g. titles): gaffer reads its
 * token usage from it, while its prompts follow the screen.
 */
export function hasHooks(ctx: { readonly controlDir?: string }, agent: { readonly profile: string | null }): boolean {
  if (ctx.controlDir === undefined) return false;
  return agent.profile === "claude" || (agent.profile === "gemini" && geminiHooksBlocker(ctx.controlDir) === null);
}

/** Whether the agent reports each turn's end through a hook (claude's Stop, codex's notify), with a control dir. */
export function reportsTurnEnd(ctx: { readonly controlDir?: string }, agent: { readonly profile: string | null }): boolean {
  return ctx.controlDir !== undefined && (agent.profile === "claude" || agent.profile === "codex");
}

/** Whether the agent reported its session started (a `started` event, e.g. claude's SessionStart). */
export async function hasStarted(db: Ledger, sessionId: string): Promise<boolean> {
  return (await readAgentEvents(db, sessionId)).some((e) => e.kind === "started");
}

/** Evidence that the agent took `text`: its prompt-submitted event after `sinceId`, or null. */
export async function hookAckEvidence(db: Ledger, sessionId: string, sinceId: number, text: string): Promise<Record<string, unknown> | null> {
  const events = await readAgentEvents(db, sessionId, sinceId);
  const hit = events.find((e) => e.kind === "prompt-submitted" && e.prompt !== null && samePrompt(e.prompt, text));
  return hit === undefined ? null : { by: "hook", rule: hit.evidenceId, hookEventId: hit.id, matched: hit.prompt!.slice(0, 200) };
}

/** A hook-acknowledged command waits for the agent's turn-end hook; the screen alone finishes it only after this long. */
export const HOOK_FALLBACK_MS = 120_000;

/**
 * Whether an acknowledged command waits for its agent's turn-end hook (the
 * screen must not finish it): the agent reports turn ends and it was
 * acknowledged less than HOOK_FALLBACK_MS ago.
 */
export function awaitsTurnEndHook(command: { readonly acknowledgedAt: string | null }, turnEndHooks: boolean, now = Date.now()): boolean {
  return turnEndHooks && command.acknowledgedAt !== null && now - Date.parse(command.acknowledgedAt) < HOOK_FALLBACK_MS;
}

const norm = (s: string): string => s.replace(/\s+/g, " ").trim();

/**
 * Finishes every hook-acknowledged command of a session whose turn the agent
 * reported over: `done` on a turn-finished event (its last message as
 * summary), `failed` with the agent's error on a failure event.
 */
export async function finishOnHooks(ctx: { readonly db: Ledger; readonly actor: string }, sessionId: string): Promise<void> {
  const inFlight = await ctx.db.selectFrom("commands").select(["id", "evidence", "text", "acknowledged_at"]).where("session_id", "=", sessionId).where("state", "=", "acknowledged").orderBy("seq").execute();
  for (const command of inFlight) {
    const ack = command.evidence === null ? null : (JSON.parse(command.evidence) as { by?: string; hookEventId?: number });
    const hooked = ack?.by === "hook" && typeof ack.hookEventId === "number";
    const events = await readAgentEvents(ctx.db, sessionId, hooked ? ack.hookEventId : 0);
    // Without a prompt hook (codex): the turn-end event that names exactly this prompt (side threads, e.g. titles, quote it inside theirs).
    const end = hooked
      ? events.find((e) => e.kind === "turn-finished" || e.kind === "failed")
      : events.find((e) => e.kind === "turn-finished" && e.prompt !== null && norm(e.prompt) === norm(command.text) && e.receivedAt >= (command.acknowledged_at ?? ""));
    if (end === undefined) continue;
    const last = end.payload.last_assistant_message ?? end.payload["last-assistant-message"];
    const message = typeof last === "string" ? last.slice(0, 500) : null;
    const failed = end.kind === "failed";
    await transitionCommand(ctx.db, command.id, { to: failed ? "failed" : "done", from: ["acknowledged"], actor: ctx.actor, evidence: { by: "hook", rule: end.evidenceId, hookEventId: end.id, ...(failed ? { error: end.reason } : {}) }, summary: failed ? end.reason : message });
  }
}
