import { SessionNotFoundError } from "../controller/errors.js";
import { appendEvent, type NewEvent } from "./events.repository.js";
import { immediateTransaction, nowIso, type Ledger } from "./ledger.js";
import type { SessionRow, SessionUpdate } from "./sessions.table.js";

/** Lifecycle of a session (DESIGN section 3), plus Stuck and Backoff from health checks. */
export type SessionState = "Starting" | "Idle" | "Running" | "Waiting" | "Crashed" | "Restarting" | "Stuck" | "Backoff" | "Closed" | "Failed";

/** A session as the rest of gaffer sees it. */
export interface SessionRecord {
  readonly id: string;
  readonly task: string | null;
  readonly stage: string | null;
  readonly role: string | null;
  readonly agent: string;
  readonly model: string | null;
  readonly tmuxSocket: string;
  readonly tmuxName: string;
  readonly panePid: number | null;
  readonly worktree: string;
  readonly state: SessionState;
  /** Last status hint: idle | running | waiting | error | unknown. */
  readonly status: string;
  readonly statusRule: string | null;
  readonly statusHash: string | null;
  readonly statusAt: string | null;
  readonly screenChangedAt: string | null;
  readonly restarts: number;
  readonly reservationId: string | null;
  readonly backoffUntil: string | null;
  /** The argv the agent was started with. */
  readonly argv: readonly string[];
  readonly lastExitStatus: number | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly closedAt: string | null;
  readonly closeReason: string | null;
  /** Why the task needs a person (`NeedsLogin`, `AgentError`...), what to do, and since when; null while progressing. */
  readonly stallReason: string | null;
  readonly stallMessage: string | null;
  readonly stalledAt: string | null;
}

export interface NewSession {
  readonly id: string;
  readonly task: string | null;
  readonly stage: string | null;
  readonly role: string | null;
  readonly agent: string;
  readonly model: string | null;
  readonly tmuxSocket: string;
  readonly tmuxName: string;
  readonly worktree: string;
  readonly reservationId: string | null;
  readonly argv: readonly string[];
}

function toRecord(row: SessionRow): SessionRecord {
  return {
    id: row.id,
    task: row.task,
    stage: row.stage,
    role: row.role,
    agent: row.agent,
    model: row.model,
    tmuxSocket: row.tmux_socket,
    tmuxName: row.tmux_name,
    panePid: row.pane_pid,
    worktree: row.worktree,
    state: row.state as SessionState,
    status: row.status,
    statusRule: row.status_rule,
    statusHash: row.status_hash,
    statusAt: row.status_at,
    screenChangedAt: row.screen_changed_at,
    restarts: row.restarts,
    reservationId: row.reservation_id,
    backoffUntil: row.backoff_until,
    argv: row.argv === null ? [] : (JSON.parse(row.argv) as string[]),
    lastExitStatus: row.last_exit_status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    closedAt: row.closed_at,
    closeReason: row.close_reason,
    stallReason: row.stall_reason,
    stallMessage: row.stall_message,
    stalledAt: row.stalled_at,
  };
}

/** The subject of a session's events. */
export function sessionSubject(id: string): string {
  return `session/${id}`;
}

/** Inserts a `Starting` session and its `SessionStarting` event in one transaction. */
export async function insertSession(db: Ledger, session: NewSession, actor: string): Promise<SessionRecord> {
  return immediateTransaction(db, async (trx) => {
    const now = nowIso();
    await trx
      .insertInto("sessions")
      .values({
        id: session.id, task: session.task, stage: session.stage, role: session.role, agent: session.agent, model: session.model,
        tmux_socket: session.tmuxSocket, tmux_name: session.tmuxName, pane_pid: null, worktree: session.worktree, state: "Starting",
        status: "unknown", status_rule: null, status_hash: null, status_at: null, reservation_id: session.reservationId,
        created_at: now, updated_at: now, closed_at: null, close_reason: null, screen_changed_at: null, backoff_until: null,
        argv: JSON.stringify(session.argv), last_exit_status: null,
      })
      .execute();
    const { id, task, agent, model, tmuxName, worktree } = session;
    await appendEvent(trx, { actor, action: "SessionStarting", subject: sessionSubject(id), payload: { task, agent, model, tmuxName, tmuxSocket: session.tmuxSocket, worktree, argv: session.argv } });
    return toRecord(await trx.selectFrom("sessions").selectAll().where("id", "=", id).executeTakeFirstOrThrow());
  });
}

export async function getSession(db: Ledger, id: string): Promise<SessionRecord | undefined> {
  const row = await db.selectFrom("sessions").selectAll().where("id", "=", id).executeTakeFirst();
  return row === undefined ? undefined : toRecord(row);
}

/** The session, or SESSION_NOT_FOUND when the id is unknown or the session is closed: never a fallback. */
export async function requireOpenSession(db: Ledger, id: string): Promise<SessionRecord> {
  const session = await getSession(db, id);
  if (session === undefined) throw new SessionNotFoundError(`no session "${id}"; \`gaffer session list\` shows the open ones`, { details: { sessionId: id } });
  if (session.state === "Closed" || session.state === "Failed") {
    throw new SessionNotFoundError(`session "${id}" is ${session.state.toLowerCase()} (${session.closeReason ?? "no reason recorded"}); create a new one with \`gaffer session create\``, { details: { sessionId: id, state: session.state } });
  }
  return session;
}

export async function listSessions(db: Ledger, options: { includeClosed?: boolean } = {}): Promise<SessionRecord[]> {
  let q = db.selectFrom("sessions").selectAll().orderBy("created_at").orderBy("id");
  if (options.includeClosed !== true) q = q.where("state", "not in", ["Closed", "Failed"]);
  return (await q.execute()).map(toRecord);
}

/** Fields a state change may set. */
export type SessionPatch = Omit<SessionUpdate, "id" | "created_at" | "updated_at">;

/**
 * Updates a session and appends its event in one transaction. With `onlyIf`,
 * nothing happens (false) unless the session is in one of those states.
 */
export async function updateSession(db: Ledger, id: string, patch: SessionPatch, event: NewEvent | null, onlyIf?: readonly SessionState[]): Promise<boolean> {
  return immediateTransaction(db, async (trx) => {
    let q = trx.updateTable("sessions").set({ ...patch, updated_at: nowIso() }).where("id", "=", id);
    if (onlyIf !== undefined) q = q.where("state", "in", [...onlyIf]);
    const result = await q.executeTakeFirst();
    if (result.numUpdatedRows === 0n) return false;
    if (event !== null) await appendEvent(trx, event);
    return true;
  });
}

/** What one look at the screen saw. */
export interface ScreenObservation {
  readonly status: string;
  readonly ruleId: string | null;
  readonly matched: string | null;
  readonly screenHash: string;
  /** State the status implies, or null to keep the current one. */
  readonly state: SessionState | null;
  /** For an idle status: when the screen, unchanged since, became idle by the agent's rule (its last change + idleAfterMs). */
  readonly idleSince?: string;
}

/**
 * Records a screen observation: the hash and its change time always, and a
 * `SessionStatusChanged` event (same transaction) when the status changed.
 * Returns the session as it is afterwards.
 */
export async function recordObservation(db: Ledger, id: string, seen: ScreenObservation, actor: string): Promise<SessionRecord> {
  return immediateTransaction(db, async (trx) => {
    const row = await trx.selectFrom("sessions").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
    const now = nowIso();
    const patch: SessionUpdate = {};
    if (row.status_hash !== seen.screenHash || row.screen_changed_at === null) Object.assign(patch, { status_hash: seen.screenHash, screen_changed_at: now });
    const live = !["Closed", "Failed", "Crashed", "Restarting", "Starting"].includes(row.state);
    if (row.status !== seen.status) {
      Object.assign(patch, { status: seen.status, status_rule: seen.ruleId, status_at: now });
      // Idle seen late (by a rare observer such as a CLI read) on a screen unchanged since: it holds `since`
      // the moment the agent's idle rule was met, never before the previous status began.
      const since = seen.status === "idle" && seen.idleSince !== undefined && row.status_hash === seen.screenHash ? [seen.idleSince, row.status_at ?? ""].sort().at(-1)! : null;
      await appendEvent(trx, { actor, action: "SessionStatusChanged", subject: sessionSubject(id), payload: { from: row.status, to: seen.status, rule: seen.ruleId, matched: seen.matched, screenHash: seen.screenHash, ...(since === null || since >= now ? {} : { since }) } });
    }
    if (live && seen.state !== null && seen.state !== row.state && !(row.state === "Backoff" && seen.state !== "Backoff")) patch.state = seen.state;
    if (Object.keys(patch).length > 0) await trx.updateTable("sessions").set({ ...patch, updated_at: now }).where("id", "=", id).execute();
    return toRecord(await trx.selectFrom("sessions").selectAll().where("id", "=", id).executeTakeFirstOrThrow());
  });
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
 */
export async function recordStall(db: Ledger, session: SessionRecord, stall: SessionStall | null, actor: string): Promise<SessionRecord> {
  if ((stall?.reason ?? null) === session.stallReason) return session;
  const patch = stall === null ? { stall_reason: null, stall_message: null, stalled_at: null } : { stall_reason: stall.reason, stall_message: stall.message, stalled_at: nowIso() };
  const event = stall === null ? { action: "SessionUnstalled", payload: { was: session.stallReason } } : { action: "SessionStalled", payload: { reason: stall.reason, message: stall.message, ...stall.evidence } };
  await updateSession(db, session.id, patch, { actor, subject: sessionSubject(session.id), ...event });
  return (await getSession(db, session.id)) ?? session;
}

/** The stall of a task's newest open session, if it has one (the task's `Stalled` condition reads this). */
export async function readTaskStall(db: Ledger, task: string): Promise<{ sessionId: string; reason: string; message: string; since: string } | null> {
  const row = await db.selectFrom("sessions").select(["id", "stall_reason", "stall_message", "stalled_at"]).where("task", "=", task).where("state", "not in", ["Closed", "Failed"]).orderBy("created_at", "desc").executeTakeFirst();
  if (row === undefined || row.stall_reason === null) return null;
  return { sessionId: row.id, reason: row.stall_reason, message: row.stall_message ?? "", since: row.stalled_at ?? "" };
}
