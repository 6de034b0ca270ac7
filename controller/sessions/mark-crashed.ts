import { tailOf } from "../core/screen-status.js";
import type { PaneState } from "../ports.js";
import { requeueUndelivered, transitionSessionCommands } from "../../state/commands.repository.js";
import type { SessionRecord } from "../../state/sessions.repository.js";
import { SCREEN_LINES, settledPane, type SessionServiceContext } from "./context.js";
import { changeSession } from "./session-store.js";

/** Why the pane's agent is gone, in words. */
export function crashReason(pane: PaneState | null): string {
  if (pane === null) return "the tmux session is gone";
  if (pane.exitStatus !== null) return `the agent process exited (status ${pane.exitStatus})`;
  return pane.signal !== null ? `the agent process was killed by signal ${pane.signal}` : "the agent process ended (tmux reported no exit status)";
}

/**
 * The pane's process or the tmux session died: the machine makes a live
 * session `Crashed` with its restart backoff. Commands in flight are `failed`
 * (never sent again: the agent may have acted on them); undelivered ones
 * return to the queue for the restart. False when the session was not live.
 */
export async function markCrashed(ctx: SessionServiceContext, session: SessionRecord, observed: PaneState | null): Promise<boolean> {
  const pane = observed === null ? null : await settledPane(ctx, session.tmuxName, observed);
  const reason = crashReason(pane);
  const screen = pane === null ? "" : tailOf(await ctx.tmux.capturePane(session.tmuxName, SCREEN_LINES).catch(() => ""), 8).join("\n");
  const at = Date.now();
  const { changed } = await changeSession(ctx, session.id, {
    event: { type: "session.died", at },
    record: (decision) => [{ action: "SessionCrashed", payload: { reason, exitStatus: pane?.exitStatus ?? null, panePid: session.panePid, screenTail: screen, restartAfterMs: Date.parse(decision.backoffUntil!) - at } }],
    set: { last_exit_status: pane?.exitStatus ?? null },
  });
  if (!changed) return false;
  // Submitted (Enter pressed) but not yet seen taken: the agent may have started on it before it died, so it is
  // never re-sent verbatim; it fails like a taken one and the task continues from the worktree's evidence.
  await transitionSessionCommands(ctx.db, session.id, { to: "failed", from: ["acknowledged", "submitted"], actor: ctx.actor, evidence: { reason: `session crashed: ${reason}`, resent: false } });
  await requeueUndelivered(ctx.db, session.id, ctx.actor);
  return true;
}
