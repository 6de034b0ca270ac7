/**
 * The session machine's persistence: the only code that writes a session's
 * row. Every lifecycle change is an event sent to the machine (restored from
 * the row); the machine decides the state, the restart count and the
 * backoff, and this module writes its decision with the caller's evidence
 * and ledger event in one transaction. A change the machine refuses writes
 * nothing.
 */
import { initialTransition } from "xstate";
import type { ResolvedAgent } from "../core/agent-profiles.js";
import { decideSession, sessionHasTag, UNKNOWN_AGENT_LIMITS, type SessionDecision } from "../machines/session-lifecycle.js";
import { sessionMachine, type SessionEvent, type SessionLimits, type SessionPhase } from "../machines/session.machine.js";
import type { NewEvent } from "../../state/events.repository.js";
import { SessionNotFoundError } from "../errors.js";
import type { Ledger } from "../../state/ledger.js";
import { getSession, insertSession, sessionSubject, writeSession, type NewSession, type SessionPatch, type SessionRecord } from "../../state/sessions.repository.js";

/** What the store needs: the ledger, who acts, and the agents (their limits drive the machine). */
export interface SessionStoreContext {
  readonly db: Ledger;
  readonly actor: string;
  readonly agents: readonly ResolvedAgent[];
}

/** Columns that are evidence, not lifecycle: the machine owns state, restarts and backoff_until. */
export type SessionEvidence = Omit<SessionPatch, "state" | "restarts" | "backoff_until">;

/** The ledger event of an accepted change. */
export interface SessionRecordedEvent {
  readonly action: string;
  readonly payload?: Readonly<Record<string, unknown>>;
}

/** A lifecycle fact for the machine, and what to record when it changes the state. */
export interface SessionChange {
  readonly event: SessionEvent;
  /** The event(s) to ledger for the decision (a constant, or computed from it). */
  readonly record: SessionRecordedEvent | ((decision: SessionDecision, before: SessionRecord) => readonly SessionRecordedEvent[]);
  /** Evidence columns written with an accepted change. */
  readonly set?: SessionEvidence;
}

/** The outcome of a change: whether the machine accepted it, and the session afterwards. */
export interface SessionChangeResult {
  readonly changed: boolean;
  readonly session: SessionRecord | undefined;
}

/** The limits of the session's agent (defaults when no AgentPool names it any more). */
export function limitsOf(ctx: Pick<SessionStoreContext, "agents">, agentName: string): SessionLimits {
  const agent = ctx.agents.find((a) => a.name === agentName);
  return agent === undefined ? UNKNOWN_AGENT_LIMITS : { maxRestarts: agent.maxRestarts, idleAfterMs: agent.idleAfterMs, stuckAfterMs: agent.stuckAfterMs, restartBackoffMs: agent.restartBackoffMs };
}

/** What the machine would decide for `event` now, without writing (to order effects before the write). */
export function previewSessionChange(ctx: Pick<SessionStoreContext, "agents">, session: SessionRecord, event: SessionEvent): SessionDecision {
  return decideSession(session, event, limitsOf(ctx, session.agent));
}

/** The lifecycle columns of a decision: a final state always carries its close time. */
export function lifecyclePatch(decision: SessionDecision, now: string, evidence: SessionEvidence = {}): SessionPatch {
  const closed = !sessionHasTag(decision.state, "open") && evidence.closed_at === undefined ? { closed_at: now } : {};
  return { ...evidence, ...closed, state: decision.state, restarts: decision.restarts, backoff_until: decision.backoffUntil };
}

function ledgerEvents(ctx: SessionStoreContext, id: string, change: SessionChange, decision: SessionDecision, before: SessionRecord): NewEvent[] {
  const recorded = typeof change.record === "function" ? change.record(decision, before) : [change.record];
  return recorded.map((r) => ({ actor: ctx.actor, subject: sessionSubject(id), action: r.action, payload: r.payload ?? {} }));
}

/**
 * Sends the session's machine one event and persists its decision (and
 * nothing when it refuses). `known`: the row as the caller read it moments
 * ago (saves a read when the answer is "no change").
 */
export async function changeSession(ctx: SessionStoreContext, id: string, change: SessionChange, known?: SessionRecord): Promise<SessionChangeResult> {
  // Most events change nothing (a health check of a healthy session): decide on the row the caller holds (or a
  // plain read) first, so only a change takes the ledger's write lock, and decides again inside it on the row as it is then.
  const seen = known ?? (await getSession(ctx.db, id));
  if (seen === undefined || !decideSession(seen, change.event, limitsOf(ctx, seen.agent)).changed) return { changed: false, session: seen };
  const result = await writeSession(ctx.db, id, (current, now) => {
    const decision = decideSession(current, change.event, limitsOf(ctx, current.agent));
    if (!decision.changed) return null;
    return { patch: lifecyclePatch(decision, now, change.set), events: ledgerEvents(ctx, id, change, decision, current) };
  });
  return { changed: result?.written ?? false, session: result?.session };
}

/** Records a new session in the machine's initial state (and its `SessionStarting` event). */
export async function insertNewSession(ctx: SessionStoreContext, session: Omit<NewSession, "state">): Promise<SessionRecord> {
  const [initial] = initialTransition(sessionMachine, { id: session.id, limits: UNKNOWN_AGENT_LIMITS, at: Date.now() });
  return insertSession(ctx.db, { ...session, state: initial.value as SessionPhase }, ctx.actor);
}

/** What one look at the screen saw. */
export interface ScreenObservation {
  readonly status: string;
  readonly ruleId: string | null;
  readonly matched: string | null;
  readonly screenHash: string;
  /** The pane is alive: only then does the screen speak for the session's state. */
  readonly alive: boolean;
  /** A ready screen still settling into idle: how long it has been quiet; null otherwise. */
  readonly settlingForMs: number | null;
  /** For an idle status: when the screen, unchanged since, became idle by the agent's rule (its last change + idleAfterMs). */
  readonly idleSince?: string;
}

/**
 * Records a screen observation: the hash and its change time always, a
 * `SessionStatusChanged` event when the status changed, and the state the
 * machine makes of the screen. Returns the session as it is afterwards.
 */
export async function recordScreen(ctx: SessionStoreContext, id: string, seen: ScreenObservation): Promise<SessionRecord> {
  const at = Date.now();
  const result = await writeSession(ctx.db, id, (row, now) => {
    const patch: SessionPatch = {};
    const events: NewEvent[] = [];
    if (row.statusHash !== seen.screenHash || row.screenChangedAt === null) Object.assign(patch, { status_hash: seen.screenHash, screen_changed_at: now });
    if (row.status !== seen.status) {
      Object.assign(patch, { status: seen.status, status_rule: seen.ruleId, status_at: now });
      // Idle seen late (by a rare observer such as a CLI read) on a screen unchanged since: it holds `since`
      // the moment the agent's idle rule was met, never before the previous status began.
      const since = seen.status === "idle" && seen.idleSince !== undefined && row.statusHash === seen.screenHash ? [seen.idleSince, row.statusAt ?? ""].sort().at(-1)! : null;
      events.push({ actor: ctx.actor, action: "SessionStatusChanged", subject: sessionSubject(id), payload: { from: row.status, to: seen.status, rule: seen.ruleId, matched: seen.matched, screenHash: seen.screenHash, ...(since === null || since >= now ? {} : { since }) } });
    }
    if (seen.alive) {
      const decision = decideSession(row, { type: "session.observed", at, status: seen.status, settlingForMs: seen.settlingForMs }, limitsOf(ctx, row.agent));
      if (decision.changed) Object.assign(patch, lifecyclePatch(decision, now));
    }
    return Object.keys(patch).length === 0 && events.length === 0 ? null : { patch, events };
  });
  if (result === undefined) throw new Error(`session ${id} vanished from the ledger`);
  return result.session;
}

/** A session's task needs a person: the reason, what to do, and the screen evidence. */
export interface SessionStall {
  readonly reason: string;
  readonly message: string;
  readonly evidence: Readonly<Record<string, unknown>>;
}

/**
 * Records that a session needs a person (`SessionStalled`) or no longer does
 * (`SessionUnstalled`); nothing is written when the reason is unchanged.
 * A stall is evidence beside the lifecycle: it never changes the state.
 */
export async function recordStall(ctx: SessionStoreContext, session: SessionRecord, stall: SessionStall | null): Promise<SessionRecord> {
  if ((stall?.reason ?? null) === session.stallReason) return session;
  const result = await writeSession(ctx.db, session.id, (_row, now) => {
    const patch = stall === null ? { stall_reason: null, stall_message: null, stalled_at: null } : { stall_reason: stall.reason, stall_message: stall.message, stalled_at: now };
    const event = stall === null ? { action: "SessionUnstalled", payload: { was: session.stallReason } } : { action: "SessionStalled", payload: { reason: stall.reason, message: stall.message, ...stall.evidence } };
    return { patch, events: [{ actor: ctx.actor, subject: sessionSubject(session.id), ...event }] };
  });
  return result?.session ?? session;
}

/** The session, or SESSION_NOT_FOUND when the id is unknown or the session is closed: never a fallback. */
export async function requireOpenSession(db: Ledger, id: string): Promise<SessionRecord> {
  const session = await getSession(db, id);
  if (session === undefined) throw new SessionNotFoundError(`no session "${id}"; \`gaffer session list\` shows the open ones`, { details: { sessionId: id } });
  if (session.closedAt !== null) {
    throw new SessionNotFoundError(`session "${id}" is ${session.state.toLowerCase()} (${session.closeReason ?? "no reason recorded"}); create a new one with \`gaffer session create\``, { details: { sessionId: id, state: session.state } });
  }
  return session;
}
