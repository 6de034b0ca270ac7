import type { Ledger } from "../../state/ledger.js";
import { listEvents } from "../../state/events.repository.js";
import { sessionSubject } from "../../state/sessions.repository.js";

/**
 * An agent that retries a failing API may alternate between an error screen
 * and a busy one for as long as it likes (codex 0.171: "Reconnecting...
 * waiting for network" and "Working (38s • esc to interrupt)" every few
 * seconds), so the time since the last status change never reaches
 * stuckAfterMs. An error episode is measured instead: from the first error
 * screen, through busy spells shorter than ERROR_GRACE_MS, until a ready or
 * waiting screen (the turn ended, or the agent asks something).
 */

/** A busy spell at least this long ends an error episode (the agent is working again). */
export const ERROR_GRACE_MS = 60_000;

/** One status change of a session: the new status, when, and the rule evidence. */
export interface StatusChange {
  readonly to: string;
  readonly at: number;
  readonly rule: string | null;
  readonly matched: string | null;
}

/** An error episode still going on: since when, and the first error's evidence. */
export interface ErrorEpisode {
  readonly since: number;
  readonly rule: string | null;
  readonly matched: string | null;
}

/** Pure: the error episode going on at `now` given a session's status changes (oldest first), or null. */
export function currentErrorEpisode(changes: readonly StatusChange[], now: number, graceMs = ERROR_GRACE_MS): ErrorEpisode | null {
  let episode: ErrorEpisode | null = null;
  let calmSince: number | null = null;
  for (const change of changes) {
    if (change.to === "idle" || change.to === "waiting") {
      episode = null;
      calmSince = null;
    } else if (change.to === "error") {
      if (episode === null || (calmSince !== null && change.at - calmSince >= graceMs)) episode = { since: change.at, rule: change.rule, matched: change.matched };
      calmSince = null;
    } else if (calmSince === null) {
      calmSince = change.at;
    }
  }
  if (episode !== null && calmSince !== null && now - calmSince >= graceMs) return null;
  return episode;
}

/** The session's current error episode, read from its `SessionStatusChanged` events (the last 200). */
export async function readErrorEpisode(db: Ledger, sessionId: string, now = Date.now()): Promise<ErrorEpisode | null> {
  const events = await listEvents(db, { subject: sessionSubject(sessionId), action: "SessionStatusChanged", limit: 200 });
  const changes = events.map((e) => ({ to: String(e.payload.to ?? ""), at: Date.parse(e.at), rule: (e.payload.rule as string | null | undefined) ?? null, matched: (e.payload.matched as string | null | undefined) ?? null }));
  return currentErrorEpisode(changes, now);
}

/** Sessions this process saw on an error screen since their last ready or waiting screen (only they are looked up). */
const erring = new Set<string>();

/**
 * The error episode a session is in, given the status just observed: none on
 * a ready or waiting screen; read from the ledger once the session showed an
 * error (a busy spell in between does not end it, see currentErrorEpisode).
 */
export async function observedErrorEpisode(db: Ledger, sessionId: string, status: string): Promise<ErrorEpisode | null> {
  if (status === "idle" || status === "waiting") {
    erring.delete(sessionId);
    return null;
  }
  if (status === "error") erring.add(sessionId);
  return erring.has(sessionId) ? readErrorEpisode(db, sessionId) : null;
}
