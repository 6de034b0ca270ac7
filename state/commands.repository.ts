import { hostname } from "node:os";
import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import type { CommandRow } from "./commands.table.js";
import type { Database } from "./database.js";
import { appendEvent } from "./events.repository.js";
import { immediateTransaction, nowIso, type Ledger } from "./ledger.js";
import { sessionSubject } from "./sessions.repository.js";

/** A command's lifecycle: issued -> typed -> submitted -> acknowledged -> done | failed | stranded. */
export type CommandState = "issued" | "typed" | "submitted" | "acknowledged" | "done" | "failed" | "stranded";

/** Not yet delivered: the next one in seq order may be claimed for delivery. */
export const UNDELIVERED: readonly CommandState[] = ["issued", "typed", "submitted"];
export const TERMINAL: readonly CommandState[] = ["done", "failed", "stranded"];

export interface CommandRecord {
  readonly id: string;
  readonly sessionId: string;
  readonly seq: number;
  readonly text: string;
  readonly state: CommandState;
  readonly idempotencyKey: string;
  readonly sender: string;
  readonly issuedAt: string;
  readonly typedAt: string | null;
  readonly submittedAt: string | null;
  readonly acknowledgedAt: string | null;
  readonly doneAt: string | null;
  readonly failedAt: string | null;
  readonly strandedAt: string | null;
  readonly exitCode: number | null;
  readonly summary: string | null;
  /** Evidence of the last transition (screen hash, rule, matched text, attempts). */
  readonly evidence: Readonly<Record<string, unknown>> | null;
  readonly owner: string | null;
  readonly leaseUntil: string | null;
  /** What the input line held just before gaffer began pasting this text; null when no paste was begun. */
  readonly pasteIntent: PasteIntent | null;
  /** When a busy signal was first seen after submission. */
  readonly busySeenAt: string | null;
}

/** Recorded before a paste, so a restarted deliverer decides from evidence, never by pasting again blindly. */
export interface PasteIntent {
  readonly owner: string;
  readonly at: string;
  /** `empty` or `unreadable` (the profile cannot read the input line): text is never pasted onto other text. */
  readonly input: "empty" | "unreadable";
  /** How many times the text's echo was already in the pane's history. */
  readonly echoes: number;
  readonly screenHash: string;
  /** The session's last agent (hook) event id before the paste: a later prompt-submitted hook with this text acknowledges it. */
  readonly hookEvent: number | null;
}

function toRecord(row: CommandRow): CommandRecord {
  return {
    id: row.id, sessionId: row.session_id, seq: row.seq, text: row.text, state: row.state as CommandState, idempotencyKey: row.idempotency_key,
    sender: row.sender, issuedAt: row.issued_at, typedAt: row.typed_at, submittedAt: row.submitted_at, acknowledgedAt: row.acknowledged_at,
    doneAt: row.done_at, failedAt: row.failed_at, strandedAt: row.stranded_at, exitCode: row.exit_code, summary: row.summary,
    evidence: row.evidence === null ? null : (JSON.parse(row.evidence) as Record<string, unknown>), owner: row.owner, leaseUntil: row.lease_until,
    pasteIntent: row.paste_intent === null ? null : (JSON.parse(row.paste_intent) as PasteIntent), busySeenAt: row.busy_seen_at,
  };
}

const EVENT_OF: Readonly<Record<CommandState, string>> = {
  issued: "CommandIssued", typed: "CommandTyped", submitted: "CommandSubmitted", acknowledged: "CommandAcknowledged",
  done: "CommandDone", failed: "CommandFailed", stranded: "CommandStranded",
};

export interface NewCommand {
  readonly sessionId: string;
  readonly text: string;
  readonly sender: string;
  /** Defaults to a fresh uuid; a repeated key returns the existing command. */
  readonly idempotencyKey?: string;
}

/** Appends a command to its session's FIFO (seq = last + 1) with its `CommandIssued` event, in one BEGIN IMMEDIATE. */
export async function enqueueCommand(db: Ledger, command: NewCommand): Promise<CommandRecord> {
  return immediateTransaction(db, async (trx) => {
    const key = command.idempotencyKey ?? randomUUID();
    const existing = await trx.selectFrom("commands").selectAll().where("idempotency_key", "=", key).executeTakeFirst();
    if (existing !== undefined) return toRecord(existing);
    const last = await trx.selectFrom("commands").select((eb) => eb.fn.max("seq").as("seq")).where("session_id", "=", command.sessionId).executeTakeFirst();
    const seq = Number(last?.seq ?? 0) + 1;
    const id = randomUUID();
    await trx
      .insertInto("commands")
      .values({ id, session_id: command.sessionId, seq, text: command.text, state: "issued", idempotency_key: key, sender: command.sender, issued_at: nowIso(), evidence: null, owner: null, lease_until: null })
      .execute();
    await appendEvent(trx, { actor: command.sender, action: "CommandIssued", subject: `${sessionSubject(command.sessionId)}/command/${seq}`, payload: { command: id, seq, chars: command.text.length } });
    return toRecord(await trx.selectFrom("commands").selectAll().where("id", "=", id).executeTakeFirstOrThrow());
  });
}

/** Records what a finished command produced (e.g. a parsed review verdict), found by its idempotency key. */
export async function setCommandSummary(db: Ledger, idempotencyKey: string, summary: string): Promise<void> {
  await db.updateTable("commands").set({ summary }).where("idempotency_key", "=", idempotencyKey).execute();
}

export async function getCommand(db: Ledger, id: string): Promise<CommandRecord | undefined> {
  const row = await db.selectFrom("commands").selectAll().where("id", "=", id).executeTakeFirst();
  return row === undefined ? undefined : toRecord(row);
}

export async function listCommands(db: Ledger, sessionId: string, states?: readonly CommandState[]): Promise<CommandRecord[]> {
  let q = db.selectFrom("commands").selectAll().where("session_id", "=", sessionId).orderBy("seq");
  if (states !== undefined) q = q.where("state", "in", [...states]);
  return (await q.execute()).map(toRecord);
}

export interface Transition {
  readonly to: CommandState;
  /** Only from these states (else nothing happens and the result is false). */
  readonly from: readonly CommandState[];
  /** Only while this process holds the lease. */
  readonly owner?: string;
  readonly evidence?: Readonly<Record<string, unknown>>;
  readonly summary?: string | null;
  readonly actor: string;
  /** Extends the lease by this much (ms) on success. */
  readonly leaseMs?: number;
}

async function transitionIn(trx: Kysely<Database>, id: string, t: Transition): Promise<boolean> {
  const now = nowIso();
  let q = trx
    .updateTable("commands")
    .set({
      state: t.to,
      [`${t.to}_at`]: now,
      ...(t.evidence === undefined ? {} : { evidence: JSON.stringify(t.evidence) }),
      ...(t.summary === undefined ? {} : { summary: t.summary }),
      ...(TERMINAL.includes(t.to) || t.to === "acknowledged" ? { owner: null, lease_until: null } : {}),
      ...(t.leaseMs === undefined ? {} : { lease_until: new Date(Date.now() + t.leaseMs).toISOString() }),
    })
    .where("id", "=", id)
    .where("state", "in", [...t.from]);
  if (t.owner !== undefined) q = q.where("owner", "=", t.owner);
  if ((await q.executeTakeFirst()).numUpdatedRows === 0n) return false;
  const row = await trx.selectFrom("commands").select(["session_id", "seq"]).where("id", "=", id).executeTakeFirstOrThrow();
  await appendEvent(trx, { actor: t.actor, action: EVENT_OF[t.to], subject: `${sessionSubject(row.session_id)}/command/${row.seq}`, payload: { command: id, seq: row.seq, ...(t.evidence ?? {}) } });
  return true;
}

/** Moves one command to `t.to` with its timestamp and event, if it is still in `t.from` (and leased by `t.owner`). */
export async function transitionCommand(db: Ledger, id: string, t: Transition): Promise<boolean> {
  return immediateTransaction(db, (trx) => transitionIn(trx, id, t));
}

/** Moves every command of a session in `t.from` to `t.to`; returns them. */
export async function transitionSessionCommands(db: Ledger, sessionId: string, t: Transition): Promise<CommandRecord[]> {
  return immediateTransaction(db, async (trx) => {
    const rows = await trx.selectFrom("commands").selectAll().where("session_id", "=", sessionId).where("state", "in", [...t.from]).orderBy("seq").execute();
    const moved: CommandRecord[] = [];
    for (const row of rows) if (await transitionIn(trx, row.id, t)) moved.push(toRecord(row));
    return moved;
  });
}

/**
 * Whether the process behind a lease (`pid@host#tag`) still runs. On another
 * host we cannot tell, so the lease time decides; on this host a killed
 * process (SIGKILL leaves its lease behind) frees the command at once.
 */
export function isOwnerAlive(owner: string): boolean {
  const match = /^(\d+)@([^#]+)#/.exec(owner);
  if (match === null || match[2] !== hostname()) return true;
  try {
    process.kill(Number(match[1]), 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export type ClaimResult =
  | { readonly kind: "claimed"; readonly command: CommandRecord }
  | { readonly kind: "blocked"; readonly reason: "leased" | "in-flight"; readonly blocker: CommandRecord }
  | { readonly kind: "empty" };

export interface ClaimRequest {
  readonly sessionId: string;
  readonly owner: string;
  readonly leaseMs: number;
  /** Deliver even though an earlier command is acknowledged but not done (the agent is asking a question). */
  readonly allowInFlight: boolean;
  readonly actor: string;
}

/**
 * Claims the next undelivered command of a session for delivery, in one
 * BEGIN IMMEDIATE: the lowest seq not yet acknowledged, unless another live
 * process holds its lease or an earlier command is still in flight. A command
 * left `typed`/`submitted` by a process that died is claimed in that state, so
 * the caller resumes its delivery (see `resumeDelivery`) instead of typing it
 * again, which could duplicate it.
 */
export async function claimNextCommand(db: Ledger, request: ClaimRequest): Promise<ClaimResult> {
  // Most turns of a queue loop find nothing to deliver (an agent asking a person, with no answer queued): a plain
  // read says so without the ledger's write lock. A command enqueued just after it wakes the loop (a ledger write).
  const any = await db.selectFrom("commands").select("id").where("session_id", "=", request.sessionId).where("state", "in", [...UNDELIVERED]).executeTakeFirst();
  if (any === undefined) return { kind: "empty" };
  return immediateTransaction(db, async (trx) => {
    const now = nowIso();
    for (;;) {
      const next = await trx.selectFrom("commands").selectAll().where("session_id", "=", request.sessionId).where("state", "in", [...UNDELIVERED]).orderBy("seq").executeTakeFirst();
      if (next === undefined) return { kind: "empty" };
      const leased = next.owner !== null && next.owner !== request.owner && next.lease_until !== null && next.lease_until > now && isOwnerAlive(next.owner);
      if (leased) return { kind: "blocked", reason: "leased", blocker: toRecord(next) };
      // A command left `typed`/`submitted` by a dead or expired deliverer is taken over as it is:
      // the new owner finishes its delivery from the screen's evidence (never types it again).
      const inFlight = await trx.selectFrom("commands").selectAll().where("session_id", "=", request.sessionId).where("state", "=", "acknowledged").where("seq", "<", next.seq).orderBy("seq").executeTakeFirst();
      if (inFlight !== undefined && !request.allowInFlight) return { kind: "blocked", reason: "in-flight", blocker: toRecord(inFlight) };
      const leaseUntil = new Date(Date.now() + request.leaseMs).toISOString();
      await trx.updateTable("commands").set({ owner: request.owner, lease_until: leaseUntil }).where("id", "=", next.id).execute();
      return { kind: "claimed", command: toRecord({ ...next, owner: request.owner, lease_until: leaseUntil }) };
    }
  });
}

/** Records the intent to paste (`CommandPasting`), while `owner` still holds the issued command; false when it does not. */
export async function recordPasteIntent(db: Ledger, id: string, intent: PasteIntent, actor: string): Promise<boolean> {
  return immediateTransaction(db, async (trx) => {
    const result = await trx.updateTable("commands").set({ paste_intent: JSON.stringify(intent) }).where("id", "=", id).where("state", "=", "issued").where("owner", "=", intent.owner).executeTakeFirst();
    if (result.numUpdatedRows === 0n) return false;
    const row = await trx.selectFrom("commands").select(["session_id", "seq"]).where("id", "=", id).executeTakeFirstOrThrow();
    await appendEvent(trx, { actor, action: "CommandPasting", subject: `${sessionSubject(row.session_id)}/command/${row.seq}`, payload: { command: id, seq: row.seq, input: intent.input, echoes: intent.echoes, screenHash: intent.screenHash } });
    return true;
  });
}

/** Forgets a paste intent once the screen proved the text never arrived (it is then pasted afresh). */
export async function clearPasteIntent(db: Ledger, id: string, owner: string): Promise<void> {
  await db.updateTable("commands").set({ paste_intent: null }).where("id", "=", id).where("state", "=", "issued").where("owner", "=", owner).execute();
}

/** Notes that the agent showed a busy signal while these submitted or acknowledged commands were in flight. */
export async function markBusySeen(db: Ledger, sessionId: string): Promise<void> {
  await db.updateTable("commands").set({ busy_seen_at: nowIso() }).where("session_id", "=", sessionId).where("state", "in", ["submitted", "acknowledged"]).where("busy_seen_at", "is", null).execute();
}

/** Gives a claimed command back to the queue (e.g. the session crashed before it was typed). */
export async function releaseClaim(db: Ledger, id: string, owner: string): Promise<void> {
  await db.updateTable("commands").set({ owner: null, lease_until: null }).where("id", "=", id).where("owner", "=", owner).execute();
}

/** After a restart: commands that never reached `acknowledged` go back to `issued`, unowned, to be sent again. */
export async function requeueUndelivered(db: Ledger, sessionId: string, actor: string): Promise<CommandRecord[]> {
  return immediateTransaction(db, async (trx) => {
    const rows = await trx.selectFrom("commands").selectAll().where("session_id", "=", sessionId).where("state", "in", [...UNDELIVERED]).orderBy("seq").execute();
    for (const row of rows) {
      await trx.updateTable("commands").set({ state: "issued", owner: null, lease_until: null, paste_intent: null, busy_seen_at: null, evidence: JSON.stringify({ requeued: true, was: row.state }) }).where("id", "=", row.id).execute();
      await appendEvent(trx, { actor, action: "CommandRequeued", subject: `${sessionSubject(sessionId)}/command/${row.seq}`, payload: { command: row.id, seq: row.seq, was: row.state } });
    }
    return rows.map(toRecord);
  });
}
