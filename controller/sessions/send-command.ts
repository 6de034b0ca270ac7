import type { ResolvedAgent } from "../core/agent-profiles.js";
import { tailOf } from "../core/screen-status.js";
import { isTmuxGone, validatePasteText } from "../adapters/tmux.js";
import { HostUnreachableError } from "../errors.js";
import { claimNextCommand, enqueueCommand, getCommand, markBusySeen, releaseClaim, transitionCommand, transitionSessionCommands, UNDELIVERED, type CommandRecord, type CommandState } from "../../state/commands.repository.js";
import { appendEvent } from "../../state/events.repository.js";
import { getSession, type SessionRecord } from "../../state/sessions.repository.js";
import { requireOpenSession } from "./session-store.js";
import { findAgent, newOwnerId, observeSession, settledLook, sleep, timingOf, type Observation, type SessionServiceContext } from "./context.js";
import { deliverCommand } from "./deliver.js";
import { resumeDelivery } from "./deliver-resume.js";
import { markCrashed } from "./mark-crashed.js";
import { awaitsTurnEndHook, finishOnHooks, reportsTurnEnd } from "../hooks/hook-evidence.js";
import { sessionHasTag } from "../machines/session-lifecycle.js";

export interface SendCommandInput {
  /** Explicit target: there is no default session. */
  readonly sessionId: string;
  readonly text: string;
  /** Return once the command reached this state (default `acknowledged`). */
  readonly waitFor?: "acknowledged" | "done";
  /** Give up waiting after this long (default 10 minutes); a command still queued then is `failed`. */
  readonly timeoutMs?: number;
  readonly idempotencyKey?: string;
}

const REACHED: Readonly<Record<"acknowledged" | "done", readonly CommandState[]>> = {
  acknowledged: ["acknowledged", "done", "failed", "stranded"],
  done: ["done", "failed", "stranded"],
};

/**
 * Sends text to one session through its FIFO: enqueue (`issued`), wait for
 * the turn (earlier commands delivered and done, or the agent asking a
 * question), deliver with confirmation, and optionally wait until done.
 * Serialized across processes by the ledger; never falls back to another session.
 */
export async function sendCommand(ctx: SessionServiceContext, input: SendCommandInput): Promise<CommandRecord> {
  const session = await requireOpenSession(ctx.db, input.sessionId);
  const text = validatePasteText(input.text);
  const command = await enqueueCommand(ctx.db, { sessionId: session.id, text, sender: ctx.actor, ...(input.idempotencyKey === undefined ? {} : { idempotencyKey: input.idempotencyKey }) });
  const target = REACHED[input.waitFor ?? "acknowledged"];
  const done = await driveQueue(ctx, session.id, { until: async () => target.includes((await getCommand(ctx.db, command.id))!.state), timeoutMs: input.timeoutMs ?? 600_000 });
  if (!done) {
    await transitionCommand(ctx.db, command.id, { to: "failed", from: ["issued"], actor: ctx.actor, evidence: { reason: `still queued after ${input.timeoutMs ?? 600_000} ms` } });
  }
  return (await getCommand(ctx.db, command.id))!;
}

/** Delivers every queued command of a session (after a restart, or from the controller loop). */
export async function drainQueue(ctx: SessionServiceContext, sessionId: string, timeoutMs = 60_000): Promise<boolean> {
  return driveQueue(ctx, sessionId, { until: async () => (await transitionlessPending(ctx, sessionId)) === 0, timeoutMs });
}

async function transitionlessPending(ctx: SessionServiceContext, sessionId: string): Promise<number> {
  const rows = await ctx.db.selectFrom("commands").select("id").where("session_id", "=", sessionId).where("state", "in", [...UNDELIVERED]).execute();
  return rows.length;
}

/**
 * The queue loop one process runs while it has something waiting: observe
 * the screen, finish in-flight commands when the agent is idle again, and
 * claim + deliver the next command when it is this session's turn.
 */
/** Poll interval while a delivered prompt is being worked on (the screen changes slowly then). */
const BUSY_POLL_MS = 500;

async function driveQueue(ctx: SessionServiceContext, sessionId: string, goal: { until: () => Promise<boolean>; timeoutMs: number }): Promise<boolean> {
  const owner = newOwnerId();
  const held = new Set<string>();
  const deadline = Date.now() + goal.timeoutMs;
  const pollMs = timingOf(ctx).pollMs;
  while (!(await goal.until())) {
    if (Date.now() > deadline) return false;
    const session = await requireOpenSession(ctx.db, sessionId).catch(async (error: unknown) => {
      await failQueued(ctx, sessionId, "the session was closed");
      throw error;
    });
    const lookedAt = Date.now();
    let delivered: boolean;
    try {
      delivered = await deliverable(ctx, session, owner, held);
    } catch (error) {
      if (error instanceof HostUnreachableError) {
        // A lost link to the agent's host is not a crash: the session runs on there. Look again until ssh reconnects.
        await noteHostLost(ctx, session, held, error);
        await sleep(HOST_RETRY_MS);
        continue;
      }
      if (!isTmuxGone(error)) throw error;
      // The tmux server or session vanished mid-step: a crash like any other (restart, continue prompt), never a task failure.
      await markCrashed(ctx, session, await ctx.tmux.paneState(session.tmuxName).catch(() => null));
      continue;
    }
    if (delivered) continue;
    // That look may have finished the command (the goal): check before waiting for the pane's next change.
    if (await goal.until()) return true;
    await pause(ctx, session, lookedAt, Math.max(0, deadline - Date.now()), pollMs);
  }
  return true;
}

/**
 * Between two turns of the queue loop. A settled idle or waiting screen
 * (an agent asking a person, or at its prompt) changes only by output, which
 * tmux notifies, or by another process's ledger write, which wakes every
 * waiter: so wait for that (at most `settledWaitMs`) instead of polling. While
 * the agent works on a delivered prompt there is nothing to type: look every
 * BUSY_POLL_MS; otherwise (start-up, a screen settling) every `pollMs`.
 */
async function pause(ctx: SessionServiceContext, session: SessionRecord, lookedAt: number, leftMs: number, pollMs: number): Promise<void> {
  if (ctx.activity !== undefined && settledLook(ctx, session.id)) {
    await ctx.activity.nextChange(session.tmuxName, lookedAt, Math.min(leftMs, timingOf(ctx).settledWaitMs));
    return;
  }
  const working = (await ctx.db.selectFrom("commands").select("id").where("session_id", "=", session.id).where("state", "=", "acknowledged").executeTakeFirst()) !== undefined;
  await sleep(working ? Math.max(pollMs, BUSY_POLL_MS) : pollMs);
}

/**
 * One turn of the loop; true when it delivered something (so the next turn comes at once).
 * Start-up and dialogs: nothing is typed while a waiting rule shows, unless a
 * prompt is in flight (then the agent asked a question mid-turn and a queued
 * text is the person's answer); a new prompt is typed only at a ready screen.
 */
async function deliverable(ctx: SessionServiceContext, session: SessionRecord, owner: string, held: Set<string>): Promise<boolean> {
  if (sessionHasTag(session.state, "held")) return false;
  if (session.backoffUntil !== null && Date.parse(session.backoffUntil) > Date.now()) return false;
  const agent = findAgent(ctx, session.agent);
  const seen = await observeSession(ctx, session, agent);
  if (seen.pane === null || seen.pane.dead) {
    await markCrashed(ctx, seen.session, seen.pane);
    return false;
  }
  if (reportsTurnEnd(ctx, agent)) await finishOnHooks(ctx, session.id);
  if (seen.evidence.ruleKind === "busy") await markBusySeen(ctx.db, session.id);
  if (seen.evidence.status === "idle") await finishInFlight(ctx, session.id, seen, agent);
  if (seen.evidence.ruleKind === "rateLimit") return false;
  const inFlight = (await ctx.db.selectFrom("commands").select("id").where("session_id", "=", session.id).where("state", "=", "acknowledged").executeTakeFirst()) !== undefined;
  if (seen.evidence.status === "waiting" && !inFlight) {
    await noteHeld(ctx, seen.session, held, { reason: "a dialog or question is on screen; nothing is typed into it", rule: seen.evidence.ruleId, matched: seen.evidence.matched, stall: seen.session.stallReason });
    return false;
  }
  const claim = await claimNextCommand(ctx.db, { sessionId: session.id, owner, leaseMs: timingOf(ctx).leaseMs, allowInFlight: seen.evidence.status === "waiting", actor: ctx.actor });
  if (claim.kind !== "claimed") return false;
  const fresh = claim.command.state === "issued" && claim.command.pasteIntent === null;
  if (fresh && seen.evidence.status !== "waiting" && seen.evidence.ruleKind !== "ready") {
    await releaseClaim(ctx.db, claim.command.id, owner);
    return false;
  }
  const delivery = { ctx, session: seen.session, agent, command: claim.command, owner, screenHash: seen.evidence.screenHash, answering: seen.evidence.status === "waiting" };
  const outcome = fresh ? await deliverCommand(delivery) : await resumeDelivery(delivery);
  if (outcome === "held") {
    await releaseClaim(ctx.db, claim.command.id, owner);
    await noteHeld(ctx, seen.session, held, { reason: "the agent's input line holds text gaffer did not type; nothing is pasted onto it" });
  }
  return outcome !== "lost" && outcome !== "held";
}

/**
 * The agent is idle again: an acknowledged command is finished when there is
 * evidence of a turn: a busy signal seen after it was submitted, a
 * turn-finished line after its echo, or an error line after its echo
 * (`failed`). The echo of the prompt itself is never evidence.
 */
export async function finishInFlight(ctx: SessionServiceContext, sessionId: string, seen: Observation, agent: ResolvedAgent): Promise<void> {
  const acknowledged = await ctx.db.selectFrom("commands").select(["id", "text", "seq", "evidence", "acknowledged_at", "busy_seen_at"]).where("session_id", "=", sessionId).where("state", "=", "acknowledged").orderBy("seq").execute();
  // A prompt the agent's hook acknowledged is finished by its turn-end hook, not by the screen.
  const inFlight = acknowledged.filter((c) => !awaitsTurnEndHook({ acknowledgedAt: c.acknowledged_at }, reportsTurnEnd(ctx, agent)));
  if (inFlight.length === 0) return;
  const history = await ctx.tmux.capturePane((await getSession(ctx.db, sessionId))!.tmuxName, 2000);
  for (const command of inFlight) {
    const error = lineAfterEcho(history, command.text, agent, agent.rules.filter((r) => r.kind === "error").map((r) => r.pattern));
    const turnDone = lineAfterEcho(history, command.text, agent, agent.turnDone);
    if (error === null && turnDone === null && command.busy_seen_at === null) continue;
    const by = error !== null ? "error-after-echo" : command.busy_seen_at !== null ? "busy-then-ready" : "turn-finished-line";
    const evidence = { by, rule: seen.evidence.ruleId, matched: seen.evidence.matched, screenHash: seen.evidence.screenHash, ...(error === null ? {} : { error }), ...(turnDone === null ? {} : { turnDone }), busySeenAt: command.busy_seen_at };
    await transitionCommand(ctx.db, command.id, { to: error === null ? "done" : "failed", from: ["acknowledged"], actor: ctx.actor, evidence, summary: error });
  }
}

/** The first line after the command's echo that matches one of `patterns` (error rules, turn-finished lines), if any. */
function lineAfterEcho(history: string, text: string, agent: ResolvedAgent, patterns: readonly string[]): string | null {
  if (patterns.length === 0) return null;
  const lines = tailOf(history, 0);
  // NOTE: a terminal shows a tab as spaces: compare with runs of whitespace collapsed.
  const squash = (line: string): string => line.replace(/\s+/g, " ");
  const probe = squash(text.split("\n").map((l) => l.trim()).filter((l) => l !== "").pop() ?? "");
  const errors = agent.rules.filter((r) => r.kind === "error").map((r) => new RegExp(r.pattern));
  const res = patterns.map((p) => new RegExp(p));
  // The echo is the last line showing the text that is not itself an error line quoting it.
  let start = -1;
  for (let i = lines.length - 1; i >= 0 && start === -1; i--) if (probe !== "" && squash(lines[i]!).includes(probe) && !errors.some((re) => re.test(lines[i]!))) start = i;
  if (start === -1) return null;
  return lines.slice(start + 1).find((line) => res.some((re) => re.test(line)))?.trim() ?? null;
}

/** A `DeliveryHeld` event, once per reason and queue loop, for the next command waiting to be typed. */
async function noteHeld(ctx: SessionServiceContext, session: SessionRecord, held: Set<string>, payload: { readonly reason: string } & Record<string, unknown>): Promise<void> {
  const next = await ctx.db.selectFrom("commands").select(["id", "seq"]).where("session_id", "=", session.id).where("state", "=", "issued").orderBy("seq").executeTakeFirst();
  if (next === undefined || held.has(`${next.id}:${payload.reason}`)) return;
  held.add(`${next.id}:${payload.reason}`);
  await appendEvent(ctx.db, { actor: ctx.actor, action: "DeliveryHeld", subject: `session/${session.id}/command/${next.seq}`, payload: { command: next.id, ...payload } });
}

/** How often a session on an unreachable host is looked at again. */
const HOST_RETRY_MS = 1000;

/** A `HostUnreachable` event, once per queue loop, for a session whose host cannot be reached. */
async function noteHostLost(ctx: SessionServiceContext, session: SessionRecord, held: Set<string>, error: HostUnreachableError): Promise<void> {
  if (held.has("host-unreachable")) return;
  held.add("host-unreachable");
  await appendEvent(ctx.db, { actor: ctx.actor, action: "HostUnreachable", subject: `session/${session.id}`, payload: { ...error.details, reason: error.message } });
}

async function failQueued(ctx: SessionServiceContext, sessionId: string, reason: string): Promise<void> {
  await transitionSessionCommands(ctx.db, sessionId, { to: "failed", from: ["issued"], actor: ctx.actor, evidence: { reason } });
}
