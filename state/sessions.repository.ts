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
  /** The session machine's initial state. */
  readonly state: SessionState;
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

/** Inserts a session in its machine's initial state and its `SessionStarting` event in one transaction. */
export async function insertSession(db: Ledger, session: NewSession, actor: string): Promise<SessionRecord> {
  return immediateTransaction(db, async (trx) => {
    const now = nowIso();
    await trx
      .insertInto("sessions")
      .values({
        id: session.id, task: session.task, stage: session.stage, role: session.role, agent: session.agent, model: session.model,
        tmux_socket: session.tmuxSocket, tmux_name: session.tmuxName, pane_pid: null, worktree: session.worktree, state: session.state,
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

export async function listSessions(db: Ledger, options: { includeClosed?: boolean } = {}): Promise<SessionRecord[]> {
  let q = db.selectFrom("sessions").selectAll().orderBy("created_at").orderBy("id");
  // Closed and Failed sessions, and only they, have closed_at (the session store sets it with the final state).
  if (options.includeClosed !== true) q = q.where("closed_at", "is", null);
  return (await q.execute()).map(toRecord);
}

/** Fields a change may set. */
export type SessionPatch = Omit<SessionUpdate, "id" | "created_at" | "updated_at">;

/** What to write for a session: its columns and the events that record the change. */
export interface SessionWrite {
  readonly patch: SessionPatch;
  readonly events: readonly NewEvent[];
}

/**
 * The one writer of session rows after their insert: reads the row, asks
 * `decide` (synchronous; the session machine's persistence in
 * controller/sessions/session-store.ts) what to write, and writes it with its
 * events in one transaction. `decide` returning null writes nothing. Returns
 * the session afterwards and whether anything was written; undefined when no
 * such session exists. No lifecycle rule lives here.
 */
export async function writeSession(db: Ledger, id: string, decide: (current: SessionRecord, now: string) => SessionWrite | null): Promise<{ readonly written: boolean; readonly session: SessionRecord } | undefined> {
  return immediateTransaction(db, async (trx) => {
    const row = await trx.selectFrom("sessions").selectAll().where("id", "=", id).executeTakeFirst();
    if (row === undefined) return undefined;
    const now = nowIso();
    const write = decide(toRecord(row), now);
    if (write === null) return { written: false, session: toRecord(row) };
    if (Object.keys(write.patch).length > 0) await trx.updateTable("sessions").set({ ...write.patch, updated_at: now }).where("id", "=", id).execute();
    for (const event of write.events) await appendEvent(trx, event);
    return { written: true, session: toRecord(await trx.selectFrom("sessions").selectAll().where("id", "=", id).executeTakeFirstOrThrow()) };
  });
}

/** The stall of a task's newest open session, if it has one (the task's `Stalled` condition reads this). */
export async function readTaskStall(db: Ledger, task: string): Promise<{ sessionId: string; reason: string; message: string; since: string } | null> {
  const row = await db.selectFrom("sessions").select(["id", "stall_reason", "stall_message", "stalled_at"]).where("task", "=", task).where("closed_at", "is", null).orderBy("created_at", "desc").executeTakeFirst();
  if (row === undefined || row.stall_reason === null) return null;
  return { sessionId: row.id, reason: row.stall_reason, message: row.stall_message ?? "", since: row.stalled_at ?? "" };
}
