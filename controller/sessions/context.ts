import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type { ResolvedAgent } from "../core/agent-profiles.js";
import type { CapacityLimits } from "../core/capacity.js";
import { classify, type StatusEvidence } from "../core/screen-status.js";
import { NotFoundError } from "../errors.js";
import type { AgentHosts, PaneState, ScreenActivity, Tmux } from "../ports.js";
import type { Ledger } from "../../state/ledger.js";
import { stallOf } from "../core/session-stall.js";
import { withHookAttention } from "../hooks/hook-attention.js";
import { observedErrorEpisode } from "./error-episode.js";
import { hasHooks } from "../hooks/hook-evidence.js";
import { readRecentAgentEvents } from "../../state/agent-events.repository.js";
import type { SessionRecord } from "../../state/sessions.repository.js";
import { previewSessionChange, recordScreen, recordStall } from "./session-store.js";

/** Delivery and polling timings (ms). Defaults follow what others found reliable (AGENT-PROFILES.md). */
export interface SessionTiming {
  /** Poll interval while waiting for a screen. */
  readonly pollMs: number;
  /** Poll interval during delivery (echo and acknowledgement are short, bounded waits). */
  readonly deliveryPollMs: number;
  /** How long to wait for a pasted text to echo. */
  readonly echoTimeoutMs: number;
  /** After Enter, how long to wait for busy or a screen change before pressing Enter again. */
  readonly enterRetryMs: number;
  /** Extra Enters before the command is `stranded`. */
  readonly maxEnterRetries: number;
  /** How long a delivering process holds a command before another may take over. */
  readonly leaseMs: number;
  /**
   * How long a queue loop waits on a settled screen for the pane's next output before it looks again
   * (RESYNC_LOOK_MS). In the controller its health round makes that look and wakes the loop when the
   * screen changed unnotified, so there the loop waits longer and costs nothing while an agent waits.
   */
  readonly settledWaitMs: number;
  /** A settled screen is looked at again (not answered from the last look) at least this often (RESYNC_LOOK_MS). */
  readonly resyncLookMs: number;
}

/** A full look at least this often, notifications or not (a missed notification costs at most this). */
export const RESYNC_LOOK_MS = 30_000;

export const DEFAULT_TIMING: SessionTiming = { pollMs: 25, deliveryPollMs: 10, echoTimeoutMs: 2000, enterRetryMs: 3000, maxEnterRetries: 2, leaseMs: 60_000, settledWaitMs: RESYNC_LOOK_MS, resyncLookMs: RESYNC_LOOK_MS };

/** Everything the session service needs: passed in by the CLI, the controller and the MCP server. */
export interface SessionServiceContext {
  readonly db: Ledger;
  readonly tmux: Tmux;
  readonly limits: CapacityLimits;
  /** Who acts (`cli:alice`, `controller`, `mcp:...`): every event carries it. */
  readonly actor: string;
  /** The AgentPool agents, resolved. */
  readonly agents: readonly ResolvedAgent[];
  readonly timing?: Partial<SessionTiming>;
  /** Pane notifications: when set, an unchanged pane is not captured again (see observeSession). */
  readonly activity?: ScreenActivity;
  /** The control dir: when set, agents with hooks (claude, codex) report their lifecycle to its ledger (`gaffer hook`). */
  readonly controlDir?: string;
  /** policy.agentAuthor: the git identity of everything committed inside a session (default: DEFAULT_AGENT_AUTHOR). */
  readonly agentAuthor?: { readonly name: string; readonly email: string };
  /** Agent hosts (AgentPool `hosts`): where a session whose slot is on a host gets its worktree. */
  readonly hosts?: AgentHosts;
}

export function timingOf(ctx: SessionServiceContext): SessionTiming {
  return { ...DEFAULT_TIMING, ...ctx.timing };
}

export function findAgent(ctx: SessionServiceContext, name: string): ResolvedAgent {
  const agent = ctx.agents.find((a) => a.name === name);
  if (agent === undefined) throw new NotFoundError(`no agent "${name}" in any AgentPool (have: ${ctx.agents.map((a) => a.name).join(", ") || "none"})`);
  return agent;
}

/** A process-unique owner id for delivery leases. */
export function newOwnerId(): string {
  return `${process.pid}@${hostname()}#${randomBytes(3).toString("hex")}`;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Lines captured for status: the visible screen (tmux sessions are 50 rows). */
export const SCREEN_LINES = 50;

/** One look at a session: screen, classification (persisted) and the pane's liveness. */
export interface Observation {
  readonly screen: string;
  readonly evidence: StatusEvidence;
  readonly pane: PaneState | null;
  readonly session: SessionRecord;
  /** Answered from the last look: a settled idle or waiting screen, and the pane silent since (no capture). */
  readonly recalled?: boolean;
}

interface Look {
  readonly at: number;
  readonly observation: Observation;
  /** A rule needed the screen to stay still: the answer depends on time, so look again. */
  readonly settling: boolean;
  /** The session's last agent event id then: a new hook event means a new look. */
  readonly hookEvent: number;
}

const looks = new WeakMap<ScreenActivity, Map<string, Look>>();

/** The last observation, when the pane sent no output and did not die since, and the session row is the same one. */
function recall(ctx: SessionServiceContext, session: SessionRecord, hookEvent: number): Observation | null {
  const activity = ctx.activity;
  const look = activity === undefined ? undefined : looks.get(activity)?.get(session.id);
  if (look === undefined || look.settling || look.hookEvent !== hookEvent || Date.now() - look.at >= timingOf(ctx).resyncLookMs) return null;
  const seen = look.observation.session;
  if (seen.state !== session.state || seen.panePid !== session.panePid || seen.statusHash !== session.statusHash || look.observation.pane?.dead !== false) return null;
  if (activity!.changedSince(session.tmuxName, look.at)) return null;
  return { ...look.observation, session, recalled: true };
}

/**
 * Whether the last look at the session is a settled idle or waiting screen
 * that notifications can vouch for: then waiting for the pane's next output
 * (`ScreenActivity.nextChange`) replaces polling.
 */
export function settledLook(ctx: SessionServiceContext, sessionId: string): boolean {
  const look = ctx.activity === undefined ? undefined : looks.get(ctx.activity)?.get(sessionId);
  return look !== undefined && !look.settling && Date.now() - look.at < timingOf(ctx).resyncLookMs;
}

function remember(activity: ScreenActivity | undefined, observation: Observation, look: Omit<Look, "observation">): void {
  // Only a settled idle or waiting screen is reused: start-up, work and unknown screens are read every time.
  // NOTE: a missed notification for the first output of a new pane was seen under heavy load (a start-up
  // that never looked again); reusing only settled screens bounds any such miss to RESYNC_LOOK_MS.
  if (activity === undefined) return;
  let map = looks.get(activity);
  if (map === undefined) looks.set(activity, (map = new Map()));
  // A screen that changed although the pane notified no output since the last look (a missed notification,
  // found by a resync look): whoever waits for the session's next change must not wait for the next output.
  const before = map.get(observation.session.id);
  if (before !== undefined && before.observation.evidence.screenHash !== observation.evidence.screenHash && !activity.changedSince(observation.session.tmuxName, before.at)) {
    activity.wakeSession(observation.session.tmuxName);
  }
  // The last look decides: a working screen forgets the idle one before it (settledLook must not vouch for it).
  if (observation.evidence.status !== "idle" && observation.evidence.status !== "waiting") map.delete(observation.session.id);
  else map.set(observation.session.id, { ...look, observation });
}

/** What a resync by tmux's record did: looks renewed without a capture, and looks forgotten (looked at in full next). */
export interface LookResync {
  readonly renewed: number;
  readonly forgotten: number;
}

/**
 * The resync of settled looks by tmux's own record (`paneActivity`), for all
 * sessions in one command instead of a capture each: a settled idle or
 * waiting look whose pane tmux says printed nothing since the look (to the
 * second) and did not die stands, as if taken when the record was asked
 * for; any other look is forgotten, so the session's next check looks in
 * full, and the session's waiters are woken. Null when the activity has no
 * such record (agent hosts).
 */
export async function resyncSettledLooks(ctx: SessionServiceContext): Promise<LookResync | null> {
  const activity = ctx.activity;
  if (activity?.paneActivity === undefined) return null;
  const map = looks.get(activity);
  if (map === undefined || map.size === 0) return { renewed: 0, forgotten: 0 };
  // Output after this moment is either in the record or notified after it: a renewed look dates from here.
  const asked = Date.now();
  const record = await activity.paneActivity();
  let renewed = 0;
  let forgotten = 0;
  for (const [id, look] of map) {
    const pane = record.get(look.observation.session.tmuxName);
    // The second of the last output ended before the look began: nothing printed since.
    if (pane !== undefined && !pane.dead && !look.settling && pane.activityAt + 1000 <= look.at) {
      map.set(id, { ...look, at: asked });
      renewed++;
    } else {
      // Its screen may have changed unnotified: whoever waits for the session's next change looks now.
      map.delete(id);
      activity.wakeSession(look.observation.session.tmuxName);
      forgotten++;
    }
  }
  return { renewed, forgotten };
}

/**
 * Captures and classifies a session's screen, recording the hash, its change
 * time and any status change (a `SessionStatusChanged` event). Stability is
 * measured from the ledger, so it holds across processes.
 */
export async function observeSession(ctx: SessionServiceContext, session: SessionRecord, agent: ResolvedAgent): Promise<Observation> {
  // An agent with hooks may say it waits for a person (claude's Notification): its own words beat the screen's.
  const hookEvents = hasHooks(ctx, agent) ? await readRecentAgentEvents(ctx.db, session.id, 20) : [];
  const hookEvent = hookEvents.at(-1)?.id ?? 0;
  const remembered = recall(ctx, session, hookEvent);
  if (remembered !== null) return remembered;
  const lookedAt = Date.now();
  const snap = await ctx.tmux.snapshot(session.tmuxName, SCREEN_LINES);
  const pane = snap?.pane ?? null;
  const screen = snap?.screen ?? "";
  const quick = classify(screen, agent.rules, { stableForMs: 0, idleAfterMs: agent.idleAfterMs, tailLines: agent.statusLines });
  const unchangedSince = quick.screenHash === session.statusHash && session.screenChangedAt !== null ? Date.parse(session.screenChangedAt) : Date.now();
  const onScreen = quick.settling ? classify(screen, agent.rules, { stableForMs: Date.now() - unchangedSince, idleAfterMs: agent.idleAfterMs, tailLines: agent.statusLines }) : quick;
  const evidence = withHookAttention(onScreen, hookEvents);
  const alive = pane !== null && !pane.dead;
  const settlingForMs = evidence.settling ? Date.now() - unchangedSince : null;
  // Nothing new to record (same screen, same status, and the machine keeps its state): skip the write transaction (reads and polls are the hot path).
  const unchanged = session.statusHash === evidence.screenHash && session.screenChangedAt !== null && session.status === evidence.status && (!alive || !screenMovesState(ctx, session, evidence.status, settlingForMs));
  const idleSince = evidence.status === "idle" ? { idleSince: new Date(unchangedSince + agent.idleAfterMs).toISOString() } : {};
  const seen = { status: evidence.status, ruleId: evidence.ruleId, matched: evidence.matched, screenHash: evidence.screenHash, alive, settlingForMs, ...idleSince };
  const updated = unchanged ? session : await recordScreen(ctx, session.id, seen);
  const observation = { screen, evidence, pane, session: pane !== null && !pane.dead ? await noteStall(ctx, updated, agent, evidence) : updated };
  remember(ctx.activity, observation, { at: lookedAt, settling: evidence.settling, hookEvent });
  return observation;
}

/** Whether the session machine would change the state for this screen (then the look is written). */
function screenMovesState(ctx: SessionServiceContext, session: SessionRecord, status: string, settlingForMs: number | null): boolean {
  return previewSessionChange(ctx, session, { type: "session.observed", at: Date.now(), status, settlingForMs }).changed;
}

/**
 * Records whether the screen means the task needs a person (a dialog, a
 * question, an error or unknown screen that lasted), as of `now`: a health
 * check that finds the trouble has lasted passes its own clock, so a session
 * it makes Stuck has its stall too (never one a moment short of the limit).
 */
export async function noteStall(ctx: SessionServiceContext, session: SessionRecord, agent: ResolvedAgent, evidence: StatusEvidence, now = Date.now()): Promise<SessionRecord> {
  // An agent retrying a failing API may alternate error and busy screens: the episode counts, not the last flip.
  const episode = evidence.status === "unknown" ? null : await observedErrorEpisode(ctx.db, session.id, evidence.status);
  const since = episode?.since ?? (session.statusAt === null ? now : Date.parse(session.statusAt));
  const seen = episode === null || evidence.status === "error" ? evidence : { ...evidence, status: "error" as const, ruleId: episode.rule, matched: episode.matched };
  const stall = stallOf({ agent, status: seen.status, ruleId: seen.ruleId, matched: seen.matched, forMs: Math.max(0, now - since), attach: `tmux -L ${session.tmuxSocket} attach -t ${session.tmuxName}` });
  return recordStall(ctx, session, stall);
}

/** Test failpoints: `GAFFER_FAILPOINT=<name>` kills this process with SIGKILL at that step (crash tests of delivery). */
export function failpoint(name: string): void {
  if (process.env.GAFFER_FAILPOINT === name) process.kill(process.pid, "SIGKILL");
}

/**
 * NOTE: tmux marks a pane dead when its pty closes and records the exit status
 * only once it reaps the process, so for a moment a dead pane has no status:
 * look again briefly. (Under load tmux 3.3a sometimes never reports it; the
 * crash is then "exited, status not reported", never a guessed signal.)
 */
export async function settledPane(ctx: SessionServiceContext, name: string, pane: PaneState): Promise<PaneState> {
  let current = pane;
  for (let i = 0; current.dead && current.exitStatus === null && current.signal === null && i < 20; i++) {
    await sleep(25);
    current = (await ctx.tmux.paneState(name)) ?? current;
  }
  return current;
}

/** Fills `{model}`, `{worktree}`, `{session}` in an argv template (each element stays one argument). */
export function renderArgv(template: readonly string[], vars: { readonly model: string; readonly worktree: string; readonly session: string }): string[] {
  return template.map((part) => part.replace(/\{(model|worktree|session)\}/g, (_, key: "model" | "worktree" | "session") => vars[key]));
}
