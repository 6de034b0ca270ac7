import { SessionNotFoundError } from "../errors.js";
import { releaseCapacity } from "../../state/capacity.repository.js";
import { transitionSessionCommands } from "../../state/commands.repository.js";
import { nowIso } from "../../state/ledger.js";
import { getSession, listSessions, type SessionRecord } from "../../state/sessions.repository.js";
import type { SessionServiceContext } from "./context.js";
import { changeSession } from "./session-store.js";

export interface CloseResult {
  readonly session: SessionRecord;
  /** False when the session was already closed (a no-op). */
  readonly closed: boolean;
  readonly capacityReleased: boolean;
  readonly message: string;
}

/**
 * Kills the tmux session (and the pane's process group), marks the session
 * Closed, fails what was still queued or in flight, releases its capacity and
 * records `SessionClosed`. Closing a closed session changes nothing and says so.
 */
export async function closeSession(ctx: SessionServiceContext, sessionId: string, reason = "closed on request"): Promise<CloseResult> {
  const session = await getSession(ctx.db, sessionId);
  if (session === undefined) throw new SessionNotFoundError(`no session "${sessionId}"; \`gaffer session list\` shows the open ones`, { details: { sessionId } });
  if (session.closedAt !== null) {
    return { session, closed: false, capacityReleased: false, message: `session ${sessionId} was already ${session.state.toLowerCase()} at ${session.closedAt ?? session.updatedAt}; nothing to do` };
  }
  // Closed first, then the kill: a health check that finds the pane gone in between must see a closed
  // session, not a live one whose agent died (that race logged a SessionCrashed for most normal closes).
  const { changed } = await changeSession(ctx, sessionId, {
    event: { type: "session.close", at: Date.now() },
    record: { action: "SessionClosed", payload: { reason, panePid: session.panePid } },
    set: { closed_at: nowIso(), close_reason: reason },
  });
  if (!changed) return closeSession(ctx, sessionId, reason);
  await ctx.tmux.killSession(session.tmuxName);
  await transitionSessionCommands(ctx.db, sessionId, { to: "failed", from: ["issued", "typed", "submitted", "acknowledged"], actor: ctx.actor, evidence: { reason: "session closed" } });
  const released = session.reservationId === null ? false : await releaseCapacity(ctx.db, session.reservationId, ctx.actor, `session ${sessionId} closed`);
  return { session: (await getSession(ctx.db, sessionId))!, closed: true, capacityReleased: released, message: `closed session ${sessionId}${released ? " and released its capacity slot" : ""}` };
}

/** Closes every open session (tests, `gaffer down`). */
export async function closeAllSessions(ctx: SessionServiceContext, reason: string): Promise<CloseResult[]> {
  const results: CloseResult[] = [];
  for (const session of await listSessions(ctx.db)) results.push(await closeSession(ctx, session.id, reason));
  return results;
}
