import { parseResetTime, tailOf } from "../core/screen-status.js";
import { SessionNotFoundError } from "../errors.js";
import type { PaneState } from "../ports.js";
import { releaseCapacity } from "../../state/capacity.repository.js";
import { requeueUndelivered, transitionSessionCommands } from "../../state/commands.repository.js";
import { nowIso } from "../../state/ledger.js";
import { getSession, listSessions, sessionSubject, updateSession, type SessionRecord, type SessionState } from "../../state/sessions.repository.js";
import { findAgent, observeSession, SCREEN_LINES, settledPane, sleep, type SessionServiceContext } from "./context.js";
import { sessionEnv, waitUntilStarted } from "./create-session.js";
import { agentHookEnv } from "../hooks/gemini-hooks.js";
import { observedErrorEpisode } from "./error-episode.js";
import { drainQueue } from "./send-command.js";

/** What a health check found. */
export interface HealthReport {
  readonly sessionId: string;
  readonly state: SessionState;
  /** Why the state is what it is (crash reason, stuck duration, backoff deadline). */
  readonly reason: string | null;
  readonly status: string;
  readonly rule: string | null;
  /** The screen's status depends on it staying still (idle after N ms of silence): look again after this long. */
  readonly lookAgainInMs?: number;
}

const LIVE: readonly SessionState[] = ["Starting", "Idle", "Running", "Waiting", "Stuck", "Backoff"];

/**
 * The pane's process or the tmux session died: `Crashed`, with the exit
 * status. Commands in flight are `failed` (never sent again: the agent may
 * have acted on them); undelivered ones return to the queue for the restart.
 */
export async function markCrashed(ctx: SessionServiceContext, session: SessionRecord, observed: PaneState | null): Promise<boolean> {
  const pane = observed === null ? null : await settledPane(ctx, session.tmuxName, observed);
  const reason = pane === null ? "the tmux session is gone" : pane.exitStatus !== null ? `the agent process exited (status ${pane.exitStatus})` : pane.signal !== null ? `the agent process was killed by signal ${pane.signal}` : "the agent process ended (tmux reported no exit status)";
  const agent = findAgent(ctx, session.agent);
  const backoff = agent.restartBackoffMs * 2 ** session.restarts;
  const screen = pane === null ? "" : tailOf(await ctx.tmux.capturePane(session.tmuxName, SCREEN_LINES).catch(() => ""), 8).join("\n");
  const marked = await updateSession(ctx.db, session.id, { state: "Crashed", last_exit_status: pane?.exitStatus ?? null, backoff_until: new Date(Date.now() + backoff).toISOString() }, {
    actor: ctx.actor, action: "SessionCrashed", subject: sessionSubject(session.id), payload: { reason, exitStatus: pane?.exitStatus ?? null, panePid: session.panePid, screenTail: screen, restartAfterMs: backoff },
  }, LIVE);
  if (!marked) return false;
  // Submitted (Enter pressed) but not yet seen taken: the agent may have started on it before it died, so it is
  // never re-sent verbatim; it fails like a taken one and the task continues from the worktree's evidence.
  await transitionSessionCommands(ctx.db, session.id, { to: "failed", from: ["acknowledged", "submitted"], actor: ctx.actor, evidence: { reason: `session crashed: ${reason}`, resent: false } });
  await requeueUndelivered(ctx.db, session.id, ctx.actor);
  return true;
}

/**
 * One health check: Crashed when the tmux session or the pane's process
 * died; Stuck when running with no screen change for `stuckAfterMs`;
 * Backoff while a rate-limit line shows (until its reset time, or the
 * agent's `rateLimitDelayMs`). Every change is ledgered.
 */
export async function checkSessionHealth(ctx: SessionServiceContext, sessionId: string, listed?: SessionRecord): Promise<HealthReport> {
  // A round over every session passes the rows it listed: one query per round, not two per session
  // (every write below is guarded by the states it moves from, so a row a moment old decides nothing wrongly).
  const session = listed ?? (await getSession(ctx.db, sessionId));
  if (session === undefined) throw new SessionNotFoundError(`no session "${sessionId}"; \`gaffer session list\` shows the open ones`, { details: { sessionId } });
  const report = (s: SessionRecord, reason: string | null): HealthReport => ({ sessionId, state: s.state, reason, status: s.status, rule: s.statusRule });
  if (!LIVE.includes(session.state)) return report(session, session.closeReason);
  const agent = findAgent(ctx, session.agent);
  const seen = await observeSession(ctx, session, agent);
  if (seen.pane === null || seen.pane.dead) {
    const pane = seen.pane === null ? null : await settledPane(ctx, seen.session.tmuxName, seen.pane);
    await markCrashed(ctx, seen.session, pane);
    const why = pane === null ? "tmux session gone" : pane.exitStatus !== null ? `exit status ${pane.exitStatus}` : pane.signal !== null ? "killed by a signal" : "ended, no exit status reported";
    return report((await getSession(ctx.db, sessionId))!, why);
  }
  const now = Date.now();
  if (seen.evidence.ruleKind === "rateLimit") {
    const until = Math.max(parseResetTime(seen.evidence.matched ?? "", now) ?? now + agent.rateLimitDelayMs, now);
    if (seen.session.state !== "Backoff") {
      await updateSession(ctx.db, sessionId, { state: "Backoff", backoff_until: new Date(until).toISOString() }, { actor: ctx.actor, action: "SessionBackoff", subject: sessionSubject(sessionId), payload: { until: new Date(until).toISOString(), rule: seen.evidence.ruleId, matched: seen.evidence.matched } });
    }
    return report((await getSession(ctx.db, sessionId))!, `rate limited until ${new Date(until).toISOString()}`);
  }
  const backoffEnded = seen.session.state === "Backoff" && (seen.session.backoffUntil === null || Date.parse(seen.session.backoffUntil) <= now);
  if (backoffEnded) {
    await updateSession(ctx.db, sessionId, { state: "Idle", backoff_until: null }, { actor: ctx.actor, action: "SessionBackoffEnded", subject: sessionSubject(sessionId), payload: { status: seen.evidence.status } });
  }
  // An error episode (error screens, perhaps with busy spells between) past stuckAfterMs: Stuck, whatever flips inside it.
  const episode = seen.evidence.status === "error" || seen.evidence.status === "running" ? await observedErrorEpisode(ctx.db, sessionId, seen.evidence.status) : null;
  if (episode !== null && now - episode.since >= agent.stuckAfterMs) {
    const forMs = now - episode.since;
    const payload = { status: "error", forMs, rule: episode.rule, matched: episode.matched, screenHash: seen.evidence.screenHash, stall: seen.session.stallReason, episode: true };
    await updateSession(ctx.db, sessionId, { state: "Stuck" }, { actor: ctx.actor, action: "SessionStuck", subject: sessionSubject(sessionId), payload }, ["Running", "Idle", "Waiting"]);
    return report((await getSession(ctx.db, sessionId))!, `error for ${forMs} ms${episode.matched === null ? "" : `: ${episode.matched}`}`);
  }
  const quietMs = now - Date.parse(seen.session.screenChangedAt ?? nowIso());
  if (seen.evidence.status === "running" && quietMs >= agent.stuckAfterMs) {
    await updateSession(ctx.db, sessionId, { state: "Stuck" }, { actor: ctx.actor, action: "SessionStuck", subject: sessionSubject(sessionId), payload: { quietMs, rule: seen.evidence.ruleId, screenHash: seen.evidence.screenHash } }, ["Running", "Idle", "Waiting"]);
    return report((await getSession(ctx.db, sessionId))!, `no screen change for ${quietMs} ms while running`);
  }
  // An error or a screen no rule knows, for longer than stuckAfterMs: Stuck too (the restart policy applies).
  const statusMs = now - Date.parse(seen.session.statusAt ?? nowIso());
  if ((seen.evidence.status === "error" || seen.evidence.status === "unknown") && statusMs >= agent.stuckAfterMs) {
    const payload = { status: seen.evidence.status, forMs: statusMs, rule: seen.evidence.ruleId, matched: seen.evidence.matched, screenHash: seen.evidence.screenHash, stall: seen.session.stallReason };
    await updateSession(ctx.db, sessionId, { state: "Stuck" }, { actor: ctx.actor, action: "SessionStuck", subject: sessionSubject(sessionId), payload }, ["Running", "Idle", "Waiting"]);
    return report((await getSession(ctx.db, sessionId))!, `${seen.evidence.status} for ${statusMs} ms${seen.evidence.matched === null ? "" : `: ${seen.evidence.matched}`}`);
  }
  const settled = report(backoffEnded ? (await getSession(ctx.db, sessionId))! : seen.session, null);
  return seen.evidence.settling ? { ...settled, lookAgainInMs: agent.idleAfterMs } : settled;
}

export type RecoveryOutcome = "restarted" | "backing-off" | "failed" | "not-needed";

/**
 * Restarts a Crashed or Stuck session in the same worktree with the same
 * argv, after its backoff, while `restarts < maxRestarts`; beyond that the
 * session is Failed and its capacity released. After a restart the queued
 * commands (those that never reached `acknowledged`) are delivered again;
 * `done` commands never are.
 */
export async function recoverSession(ctx: SessionServiceContext, sessionId: string, options: { resend?: boolean } = {}): Promise<RecoveryOutcome> {
  const session = await getSession(ctx.db, sessionId);
  if (session === undefined) throw new SessionNotFoundError(`no session "${sessionId}"; \`gaffer session list\` shows the open ones`, { details: { sessionId } });
  if (session.state !== "Crashed" && session.state !== "Stuck") return "not-needed";
  const agent = findAgent(ctx, session.agent);
  if (session.restarts >= agent.maxRestarts) return giveUp(ctx, session, `crashed and maxRestarts (${agent.maxRestarts}) reached`);
  if (session.state === "Crashed" && session.backoffUntil !== null && Date.parse(session.backoffUntil) > Date.now()) return "backing-off";
  if (!(await updateSession(ctx.db, sessionId, { state: "Restarting" }, { actor: ctx.actor, action: "SessionRestarting", subject: sessionSubject(sessionId), payload: { attempt: session.restarts + 1, was: session.state } }, ["Crashed", "Stuck"]))) return "not-needed";
  await ctx.tmux.killSession(session.tmuxName);
  if (session.state === "Stuck") {
    await transitionSessionCommands(ctx.db, sessionId, { to: "failed", from: ["acknowledged"], actor: ctx.actor, evidence: { reason: "session stuck; restarted", resent: false } });
    await requeueUndelivered(ctx.db, sessionId, ctx.actor);
  }
  try {
    await ctx.tmux.newSession({ name: session.tmuxName, cwd: session.worktree, argv: session.argv, env: sessionEnv(agent, session.id, ctx.agentAuthor, agentHookEnv(agent.profile, session.id, ctx.controlDir)) });
    const seen = await waitUntilStarted(ctx, sessionId, agent);
    const restarted = await updateSession(ctx.db, sessionId, { state: "Idle", pane_pid: seen.pane?.pid ?? null, restarts: session.restarts + 1, backoff_until: null }, {
      actor: ctx.actor, action: "SessionRestarted", subject: sessionSubject(sessionId), payload: { attempt: session.restarts + 1, panePid: seen.pane?.pid ?? null, worktree: session.worktree, rule: seen.evidence.ruleId },
    }, ["Restarting"]);
    if (!restarted) {
      // Closed while it restarted: the new agent is not wanted.
      await ctx.tmux.killSession(session.tmuxName).catch(() => false);
      return "not-needed";
    }
  } catch (error) {
    await ctx.tmux.killSession(session.tmuxName).catch(() => false);
    const backoff = agent.restartBackoffMs * 2 ** (session.restarts + 1);
    await updateSession(ctx.db, sessionId, { state: "Crashed", restarts: session.restarts + 1, backoff_until: new Date(Date.now() + backoff).toISOString() }, { actor: ctx.actor, action: "SessionRestartFailed", subject: sessionSubject(sessionId), payload: { reason: (error as Error).message } });
    return "backing-off";
  }
  if (options.resend !== false) await drainQueue(ctx, sessionId);
  return "restarted";
}

async function giveUp(ctx: SessionServiceContext, session: SessionRecord, reason: string): Promise<RecoveryOutcome> {
  await ctx.tmux.killSession(session.tmuxName).catch(() => false);
  await transitionSessionCommands(ctx.db, session.id, { to: "failed", from: ["issued"], actor: ctx.actor, evidence: { reason } });
  await updateSession(ctx.db, session.id, { state: "Failed", closed_at: nowIso(), close_reason: reason }, { actor: ctx.actor, action: "SessionFailed", subject: sessionSubject(session.id), payload: { reason, restarts: session.restarts } });
  if (session.reservationId !== null) await releaseCapacity(ctx.db, session.reservationId, ctx.actor, `session ${session.id} failed: ${reason}`);
  return "failed";
}

/** Checks and recovers every open session each `intervalMs` until `signal` aborts (the controller's health loop). */
export async function superviseSessions(ctx: SessionServiceContext, options: { intervalMs: number; signal: AbortSignal }): Promise<void> {
  while (!options.signal.aborted) {
    for (const session of await listSessions(ctx.db)) {
      const health = await checkSessionHealth(ctx, session.id, session);
      if (health.state === "Crashed" || health.state === "Stuck") await recoverSession(ctx, session.id);
    }
    await sleep(options.intervalMs);
  }
}
