import type { StatusEvidence } from "../core/screen-status.js";
import type { SessionState } from "../../state/sessions.repository.js";
import { requireOpenSession } from "./session-store.js";
import { findAgent, observeSession, SCREEN_LINES, type SessionServiceContext } from "./context.js";
import { markCrashed } from "./mark-crashed.js";
import { finishInFlight } from "./send-command.js";

export interface ReadOutputInput {
  readonly sessionId: string;
  /** Last N lines (default 50). */
  readonly lines?: number;
  /** Only the output after the last line containing this text (searched in the last 2000 lines). */
  readonly sinceMarker?: string;
}

/** Raw output plus a status hint with its evidence. */
export interface SessionOutput {
  readonly sessionId: string;
  readonly text: string;
  readonly status: StatusEvidence["status"];
  /** Rule id that decided (`scripted/ready/1`, `tmux/pane-dead`), null when nothing matched. */
  readonly rule: string | null;
  readonly matched: string | null;
  readonly screenHash: string;
  readonly state: SessionState;
  /** True when the marker was given but not found (then `text` is the last N lines). */
  readonly markerMissing: boolean;
}

/**
 * Reads a session's output and classifies its screen. Status changes are
 * recorded as `SessionStatusChanged` events; an idle screen finishes
 * acknowledged commands (`done`); a dead pane marks the session Crashed.
 */
export async function readSessionOutput(ctx: SessionServiceContext, input: ReadOutputInput): Promise<SessionOutput> {
  const session = await requireOpenSession(ctx.db, input.sessionId);
  const agent = findAgent(ctx, session.agent);
  const seen = await observeSession(ctx, session, agent);
  let { status, ruleId, matched } = seen.evidence;
  if (seen.pane === null || seen.pane.dead) {
    await markCrashed(ctx, seen.session, seen.pane);
    status = "error";
    ruleId = seen.pane === null ? "tmux/session-gone" : "tmux/pane-dead";
    matched = seen.pane === null ? "the tmux session is gone" : seen.pane.exitStatus !== null ? `the agent exited with status ${seen.pane.exitStatus}` : seen.pane.signal !== null ? `the agent was killed by signal ${seen.pane.signal}` : "the agent ended (no exit status reported)";
  } else if (status === "idle") {
    await finishInFlight(ctx, session.id, seen, agent);
  }
  const lines = Math.max(1, input.lines ?? 50);
  const { text, markerMissing } = seen.pane === null ? { text: "", markerMissing: input.sinceMarker !== undefined } : await outputText(ctx, seen.screen, session.tmuxName, lines, input.sinceMarker);
  const state = seen.pane === null || seen.pane.dead ? "Crashed" : seen.session.state;
  return { sessionId: session.id, text, status, rule: ruleId, matched, screenHash: seen.evidence.screenHash, state, markerMissing };
}

async function outputText(ctx: SessionServiceContext, screen: string, name: string, lines: number, marker: string | undefined): Promise<{ text: string; markerMissing: boolean }> {
  // The observation already captured the last SCREEN_LINES lines: no second capture for a short read.
  if (marker === undefined && lines <= SCREEN_LINES) return { text: screen.split("\n").slice(-lines).join("\n"), markerMissing: false };
  if (marker === undefined) return { text: await ctx.tmux.capturePane(name, lines), markerMissing: false };
  const all = (await ctx.tmux.capturePane(name, 2000)).split("\n");
  for (let i = all.length - 1; i >= 0; i--) if (all[i]!.includes(marker)) return { text: all.slice(i + 1).join("\n"), markerMissing: false };
  return { text: all.slice(-lines).join("\n"), markerMissing: true };
}
