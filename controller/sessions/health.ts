import type { ResolvedAgent } from "../core/agent-profiles.js";
import { parseResetTime } from "../core/screen-status.js";
import { SessionNotFoundError } from "../errors.js";
import { sessionHasTag } from "../machines/session-lifecycle.js";
import { releaseCapacity } from "../../state/capacity.repository.js";
import { requeueUndelivered, transitionSessionCommands } from "../../state/commands.repository.js";
import { nowIso } from "../../state/ledger.js";
import { getSession, listSessions, type SessionRecord, type SessionState } from "../../state/sessions.repository.js";
import { findAgent, noteStall, observeSession, settledPane, sleep, type Observation, type SessionServiceContext } from "./context.js";
import { sessionEnv, waitUntilStarted } from "./create-session.js";
import { agentHookEnv } from "../hooks/gemini-hooks.js";
import { observedErrorEpisode } from "./error-episode.js";
import { markCrashed } from "./mark-crashed.js";
import { drainQueue } from "./send-command.js";
import { changeSession, previewSessionChange } from "./session-store.js";

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
  /**
   * A settled idle or waiting screen that notifications vouch for, in a state with no timer: until the pane
   * prints or dies, or the ledger changes, another check would find the same.
   */
  readonly quiet?: true;
}

async function requireSession(ctx: SessionServiceContext, sessionId: string): Promise<SessionRecord> {
  const session = await getSession(ctx.db, sessionId);
  if (session === undefined) throw new SessionNotFoundError(`no session "${sessionId}"; \`gaffer session list\` shows the open ones`, { details: { sessionId } });
  return session;
}

/** Trouble the screen shows (a quiet running screen, an error episode, an error or unknown screen) and for how long. */
interface Trouble {
  readonly forMs: number;
  readonly reason: string;
  readonly payload: Readonly<Record<string, unknown>>;
}

/** The trouble that has lasted stuckAfterMs (in this order of precedence), else the longest one, else null. */
async function troubleOf(ctx: SessionServiceContext, seen: Observation, agent: ResolvedAgent, now: number): Promise<Trouble | null> {
  const { evidence, session } = seen;
  const found: Trouble[] = [];
  // An error episode (error screens, perhaps with busy spells between): Stuck past stuckAfterMs, whatever flips inside it.
  const episode = evidence.status === "error" || evidence.status === "running" ? await observedErrorEpisode(ctx.db, session.id, evidence.status) : null;
  if (episode !== null) {
    const forMs = now - episode.since;
    found.push({ forMs, reason: `error for ${forMs} ms${episode.matched === null ? "" : `: ${episode.matched}`}`, payload: { status: "error", forMs, rule: episode.rule, matched: episode.matched, screenHash: evidence.screenHash, stall: session.stallReason, episode: true } });
  }
  const quietMs = now - Date.parse(session.screenChangedAt ?? nowIso());
  if (evidence.status === "running") found.push({ forMs: quietMs, reason: `no screen change for ${quietMs} ms while running`, payload: { quietMs, rule: evidence.ruleId, screenHash: evidence.screenHash } });
  // An error or a screen no rule knows, for longer than stuckAfterMs: Stuck too (the restart policy applies).
  const statusMs = now - Date.parse(session.statusAt ?? nowIso());
  if (evidence.status === "error" || evidence.status === "unknown") {
    const payload = { status: evidence.status, forMs: statusMs, rule: evidence.ruleId, matched: evidence.matched, screenHash: evidence.screenHash, stall: session.stallReason };
    found.push({ forMs: statusMs, reason: `${evidence.status} for ${statusMs} ms${evidence.matched === null ? "" : `: ${evidence.matched}`}`, payload });
  }
  return found.find((t) => t.forMs >= agent.stuckAfterMs) ?? found.sort((a, b) => b.forMs - a.forMs)[0] ?? null;
}

/**
 * One health check: the screen is observed, then the session machine hears
 * what it means: a dead pane (`Crashed`), a rate-limit line (`Backoff` until
 * its reset time, or the agent's `rateLimitDelayMs`), and how long any
 * trouble has lasted (its stuck timer: `Stuck` after `stuckAfterMs`; a
 * finished backoff: `Idle`). Every change is ledgered.
 */
export async function checkSessionHealth(ctx: SessionServiceContext, sessionId: string, listed?: SessionRecord): Promise<HealthReport> {
  // A round over every session passes the rows it listed: one query per round, not two per session
  // (the store decides again on the row as it is when it writes, so a row a moment old decides nothing wrongly).
  const session = listed ?? (await requireSession(ctx, sessionId));
  const report = (s: SessionRecord, reason: string | null): HealthReport => ({ sessionId, state: s.state, reason, status: s.status, rule: s.statusRule });
  if (!sessionHasTag(session.state, "live")) return report(session, session.closeReason);
  const agent = findAgent(ctx, session.agent);
  const seen = await observeSession(ctx, session, agent);
  if (seen.pane === null || seen.pane.dead) {
    const pane = seen.pane === null ? null : await settledPane(ctx, seen.session.tmuxName, seen.pane);
    await markCrashed(ctx, seen.session, pane);
    const why = pane === null ? "tmux session gone" : pane.exitStatus !== null ? `exit status ${pane.exitStatus}` : pane.signal !== null ? "killed by a signal" : "ended, no exit status reported";
    return report(await requireSession(ctx, sessionId), why);
  }
  // A settled idle or waiting screen that the pane has not changed since (notifications vouch for it) carries
  // no trouble, so no timer of the machine can be armed by this check; only a clocked state (Backoff) is told
  // the time, and a rate-limit line still on screen is heard again below.
  if (seen.recalled === true && seen.evidence.ruleKind !== "rateLimit" && !sessionHasTag(seen.session.state, "clocked")) return { ...report(seen.session, null), quiet: true };
  const now = Date.now();
  if (seen.evidence.ruleKind === "rateLimit") {
    const until = Math.max(parseResetTime(seen.evidence.matched ?? "", now) ?? now + agent.rateLimitDelayMs, now);
    const payload = { until: new Date(until).toISOString(), rule: seen.evidence.ruleId, matched: seen.evidence.matched };
    const limited = await changeSession(ctx, sessionId, { event: { type: "session.rateLimited", at: now, until }, record: { action: "SessionBackoff", payload } }, seen.session);
    return report(limited.session ?? seen.session, `rate limited until ${new Date(until).toISOString()}`);
  }
  const trouble = await troubleOf(ctx, seen, agent, now);
  const checked = await changeSession(ctx, sessionId, {
    event: { type: "session.checked", at: now, troubleForMs: trouble?.forMs ?? null },
    record: (decision, before) => [
      ...(before.state === "Backoff" && decision.state !== "Backoff" ? [{ action: "SessionBackoffEnded", payload: { status: seen.evidence.status } }] : []),
      ...(decision.state === "Stuck" && trouble !== null ? [{ action: "SessionStuck", payload: trouble.payload }] : []),
    ],
  }, seen.session);
  // The screen's stall was judged a moment before this check's clock: a session made Stuck here by trouble that
  // just reached stuckAfterMs gets its stall in the same check (the task's Stalled reason never lags its Stuck).
  const after = checked.session ?? seen.session;
  const stalled = after.state === "Stuck" && after.stallReason === null ? await noteStall(ctx, after, agent, seen.evidence, now) : after;
  const settled = report(stalled, trouble !== null && trouble.forMs >= agent.stuckAfterMs ? trouble.reason : null);
  return seen.evidence.settling ? { ...settled, lookAgainInMs: agent.idleAfterMs } : settled;
}

export type RecoveryOutcome = "restarted" | "backing-off" | "failed" | "not-needed";

/**
 * Restarts a Crashed or Stuck session in the same worktree with the same
 * argv, after its backoff, while `restarts < maxRestarts` (the machine's
 * guards); beyond that the session is Failed and its capacity released.
 * After a restart the queued commands (those that never reached
 * `acknowledged`) are delivered again; `done` commands never are.
 */
export async function recoverSession(ctx: SessionServiceContext, sessionId: string, options: { resend?: boolean } = {}): Promise<RecoveryOutcome> {
  const session = await requireSession(ctx, sessionId);
  if (!sessionHasTag(session.state, "recoverable")) return "not-needed";
  const agent = findAgent(ctx, session.agent);
  const restart = { type: "session.restart", at: Date.now() } as const;
  const next = previewSessionChange(ctx, session, restart);
  if (next.state === "Failed") return giveUp(ctx, session, `crashed and maxRestarts (${agent.maxRestarts}) reached`);
  if (!next.changed) return "backing-off";
  const begun = await changeSession(ctx, sessionId, { event: restart, record: { action: "SessionRestarting", payload: { attempt: session.restarts + 1, was: session.state } } });
  if (!begun.changed || begun.session?.state !== "Restarting") return "not-needed";
  await ctx.tmux.killSession(session.tmuxName);
  if (session.state === "Stuck") {
    await transitionSessionCommands(ctx.db, sessionId, { to: "failed", from: ["acknowledged"], actor: ctx.actor, evidence: { reason: "session stuck; restarted", resent: false } });
    await requeueUndelivered(ctx.db, sessionId, ctx.actor);
  } else {
    // markCrashed fails the dead agent's prompts in its own write after the state's: should this restart come
    // between the two, they are failed here, before a new agent exists. Its first idle screen must never
    // finish (`done`) a prompt the dead agent took.
    await transitionSessionCommands(ctx.db, sessionId, { to: "failed", from: ["acknowledged", "submitted"], actor: ctx.actor, evidence: { reason: `session crashed: ${crashedBecause(session)}`, resent: false } });
  }
  try {
    await ctx.tmux.newSession({ name: session.tmuxName, cwd: session.worktree, argv: session.argv, env: sessionEnv(agent, session.id, ctx.agentAuthor, agentHookEnv(agent.profile, session.id, ctx.controlDir)) });
    const seen = await waitUntilStarted(ctx, sessionId, agent);
    const panePid = seen.pane?.pid ?? null;
    const payload = { attempt: session.restarts + 1, panePid, worktree: session.worktree, rule: seen.evidence.ruleId };
    const restarted = await changeSession(ctx, sessionId, { event: { type: "session.restarted", at: Date.now() }, record: { action: "SessionRestarted", payload }, set: { pane_pid: panePid } });
    if (!restarted.changed) {
      // Closed while it restarted: the new agent is not wanted.
      await ctx.tmux.killSession(session.tmuxName).catch(() => false);
      return "not-needed";
    }
  } catch (error) {
    await ctx.tmux.killSession(session.tmuxName).catch(() => false);
    await changeSession(ctx, sessionId, { event: { type: "session.restartFailed", at: Date.now() }, record: { action: "SessionRestartFailed", payload: { reason: (error as Error).message } } });
    return "backing-off";
  }
  if (options.resend !== false) await drainQueue(ctx, sessionId);
  return "restarted";
}

/** Why a Crashed session's agent is gone, from its recorded exit status. */
function crashedBecause(session: SessionRecord): string {
  return session.lastExitStatus === null ? "the agent process ended" : `the agent process exited (status ${session.lastExitStatus})`;
}

async function giveUp(ctx: SessionServiceContext, session: SessionRecord, reason: string): Promise<RecoveryOutcome> {
  await ctx.tmux.killSession(session.tmuxName).catch(() => false);
  await transitionSessionCommands(ctx.db, session.id, { to: "failed", from: ["issued"], actor: ctx.actor, evidence: { reason } });
  const record = { action: "SessionFailed", payload: { reason, restarts: session.restarts } };
  await changeSession(ctx, session.id, { event: { type: "session.restart", at: Date.now() }, record, set: { closed_at: nowIso(), close_reason: reason } });
  if (session.reservationId !== null) await releaseCapacity(ctx.db, session.reservationId, ctx.actor, `session ${session.id} failed: ${reason}`);
  return "failed";
}

/** Checks and recovers every open session each `intervalMs` until `signal` aborts (the controller's health loop). */
export async function superviseSessions(ctx: SessionServiceContext, options: { intervalMs: number; signal: AbortSignal }): Promise<void> {
  while (!options.signal.aborted) {
    for (const session of await listSessions(ctx.db)) {
      const health = await checkSessionHealth(ctx, session.id, session);
      if (sessionHasTag(health.state, "recoverable")) await recoverSession(ctx, session.id);
    }
    await sleep(options.intervalMs);
  }
}
