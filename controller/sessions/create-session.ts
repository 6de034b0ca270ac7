import { randomBytes } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import type { ResolvedAgent } from "../core/agent-profiles.js";
import type { ResolvedHost } from "../core/hosts.js";
import { tailOf } from "../core/screen-status.js";
import { sessionNameFor } from "../adapters/tmux.js";
import { agentHookArgs } from "../hooks/agent-hooks.js";
import { agentHookEnv } from "../hooks/gemini-hooks.js";
import { hasHooks, hasStarted } from "../hooks/hook-evidence.js";
import { SESSION_ENV } from "../core/session-marker.js";
import { DEFAULT_AGENT_AUTHOR } from "../core/project-config.js";
import { AgentNotInstalledError, NotFoundError, SessionStartError } from "../errors.js";
import { missingAgent } from "./agent-binary.js";
import { releaseCapacity, setReservationHolder } from "../../state/capacity.repository.js";
import { reserveCapacity } from "./reserve-capacity.js";
import { getSession, type SessionRecord } from "../../state/sessions.repository.js";
import type { SessionEvent } from "../machines/session.machine.js";
import { changeSession, insertNewSession } from "./session-store.js";
import { findAgent, observeSession, renderArgv, settledPane, sleep, timingOf, type Observation, type SessionServiceContext } from "./context.js";

export interface CreateSessionInput {
  /** The task the session works on; its name is the base of the session id. */
  readonly task: string;
  readonly agent: string;
  /** Defaults to the agent's first model. */
  readonly model?: string;
  /** Capacity role (default `worker`). */
  readonly role?: string;
  readonly stage?: string | null;
  /** Directory the agent starts in (a worktree or the target repo). */
  readonly worktree: string;
  /** The agent host to run on; null: this machine; left out: the host with the most free slots when hosts are listed. */
  readonly host?: string | null;
}

/**
 * The agent's env plus the session marker `GAFFER_SESSION=<id>` and the
 * agent's git identity (GIT_AUTHOR_* and GIT_COMMITTER_*, from
 * policy.agentAuthor), so whatever the agent commits, wherever, is the
 * agent's and never passes for a person's approval. The agent's own env
 * cannot override them.
 */
export function sessionEnv(agent: ResolvedAgent, id: string, author: { readonly name: string; readonly email: string } = DEFAULT_AGENT_AUTHOR, hooks: Readonly<Record<string, string>> = {}): Record<string, string> {
  const fill = (template: string): string => template.replace(/\{(session|agent)\}/g, (_, key: string) => (key === "session" ? id : agent.name).replace(/[^A-Za-z0-9._-]/g, "-"));
  const name = fill(author.name);
  const email = fill(author.email);
  return { ...agent.env, ...hooks, [SESSION_ENV]: id, GIT_AUTHOR_NAME: name, GIT_AUTHOR_EMAIL: email, GIT_COMMITTER_NAME: name, GIT_COMMITTER_EMAIL: email };
}

function pickModel(agent: ResolvedAgent, model: string | undefined): string {
  if (model === undefined) return agent.models[0] ?? "default";
  if (agent.models.length > 0 && !agent.models.includes(model)) {
    throw new NotFoundError(`agent "${agent.name}" has no model "${model}" (has: ${agent.models.join(", ")}); pick one or add it to the AgentPool`);
  }
  return model;
}

function checkDir(dir: string): string {
  const path = resolve(dir);
  if (!existsSync(path) || !statSync(path).isDirectory()) throw new NotFoundError(`worktree directory ${path} does not exist; create the worktree first (\`gaffer worktree create\`) or pass --worktree`);
  return path;
}

/**
 * Starts an agent session: checks the agent's binary (AGENT_NOT_INSTALLED), reserves capacity first (one transaction), starts
 * tmux in the worktree with the agent's argv, waits for its ready screen
 * within `startupTimeoutMs`, and records the session. On any failure the
 * reservation is released and the reason recorded (`SessionStartFailed`).
 */
export async function createSession(ctx: SessionServiceContext, input: CreateSessionInput): Promise<SessionRecord> {
  const agent = findAgent(ctx, input.agent);
  const missing = missingAgent(agent);
  if (missing !== null) throw new AgentNotInstalledError(missing.message, { details: { ...missing } });
  const model = pickModel(agent, input.model);
  const id = sessionNameFor(input.task, randomBytes(4).toString("hex").slice(0, 6));
  const local = checkDir(input.worktree);
  const role = input.role ?? "worker";
  const reservation = await reserveCapacity(ctx.db, ctx.limits, { agent: agent.name, role, stage: input.stage ?? null, task: input.task, holder: `pending:${id}`, actor: ctx.actor, ...(input.host === undefined ? {} : { host: input.host }) });
  try {
    // On an agent host the agent works in the task's worktree there; hooks need gaffer itself, so only screen rules apply.
    const host = hostOf(ctx, reservation.host);
    const worktree = host === null ? local : await ctx.hosts!.prepare(host, { task: input.task, worktree: local });
    const hookDir = host === null ? ctx.controlDir : undefined;
    const argv = [...renderArgv(agent.command, { model, worktree, session: id }), ...(hookDir === undefined ? [] : agentHookArgs(agent.profile, id, hookDir, { worktree, env: agent.env }))];
    await insertNewSession(ctx, { id, task: input.task, stage: input.stage ?? null, role, agent: agent.name, model, tmuxSocket: ctx.tmux.socket, tmuxName: id, worktree, reservationId: reservation.id, argv });
    await setReservationHolder(ctx.db, reservation.id, id);
    await ctx.tmux.newSession({ name: id, cwd: worktree, argv, host: host?.name ?? null, env: sessionEnv(agent, id, ctx.agentAuthor, agentHookEnv(agent.profile, id, hookDir)) });
    const seen = await waitUntilStarted(ctx, id, agent);
    const payload = { task: input.task, agent: agent.name, model, role, worktree, tmuxName: id, tmuxSocket: ctx.tmux.socket, ...(host === null ? {} : { host: host.name }), panePid: seen.pane?.pid ?? null, rule: seen.evidence.ruleId, matched: seen.evidence.matched, screenHash: seen.evidence.screenHash };
    await changeSession(ctx, id, { event: startedEvent(seen), record: { action: "SessionCreated", payload }, set: { pane_pid: seen.pane?.pid ?? null } });
    return (await getSession(ctx.db, id))!;
  } catch (error) {
    await failStart(ctx, id, reservation.id, error);
    throw error;
  }
}

/** The agent host a reservation landed on, null for this machine. */
function hostOf(ctx: SessionServiceContext, name: string | null): ResolvedHost | null {
  if (name === null) return null;
  const host = ctx.hosts?.hosts.find((h) => h.name === name);
  if (host === undefined) throw new NotFoundError(`agent host "${name}" is not in any AgentPool's hosts (have: ${ctx.hosts?.hosts.map((h) => h.name).join(", ") || "none"}); list it, or drop the host capacity`);
  return host;
}

/**
 * A session a stopped controller left `Starting`: wait until its agent is
 * ready (or asks something), then record it Idle or Waiting (`SessionAdopted`).
 * Throws what waitUntilStarted throws; the caller decides to close it.
 */
export async function adoptStartingSession(ctx: SessionServiceContext, id: string, agent: ResolvedAgent): Promise<SessionRecord | null> {
  const seen = await waitUntilStarted(ctx, id, agent);
  const payload = { rule: seen.evidence.ruleId, screenHash: seen.evidence.screenHash };
  await changeSession(ctx, id, { event: startedEvent(seen), record: { action: "SessionAdopted", payload }, set: { pane_pid: seen.pane?.pid ?? null } });
  return (await getSession(ctx.db, id)) ?? null;
}

/** The machine's event for an agent that reached its ready (or a waiting) screen. */
function startedEvent(seen: Observation): SessionEvent {
  return { type: "session.started", at: Date.now(), waiting: seen.evidence.status === "waiting" };
}

/** Polls until the agent shows its ready (or a waiting) screen; a dead pane, an error screen or the timeout is a start failure. */
export async function waitUntilStarted(ctx: SessionServiceContext, id: string, agent: ResolvedAgent): Promise<Observation> {
  const deadline = Date.now() + agent.startupTimeoutMs;
  let last: Observation | null = null;
  for (;;) {
    const session = (await getSession(ctx.db, id))!;
    last = await observeSession(ctx, session, agent);
    const { evidence, pane } = last;
    if (pane === null || pane.dead) {
      const status = pane === null ? null : (await settledPane(ctx, id, pane)).exitStatus;
      throw startError(id, `the agent exited during start-up (${status === null ? "no exit status" : `status ${status}`})`, { ...last, pane: pane === null ? null : { ...pane, exitStatus: status } });
    }
    if (evidence.status === "waiting") return last;
    // An agent with hooks has started when it says so (claude takes no input while its SessionStart hooks run).
    if (evidence.ruleKind === "ready" && (!hasHooks(ctx, agent) || Date.now() > deadline || (await hasStarted(ctx.db, id)))) return last;
    if (evidence.status === "error") throw startError(id, `the agent showed an error at start-up: ${evidence.matched}`, last);
    if (Date.now() > deadline) throw startError(id, `no ready screen within ${agent.startupTimeoutMs} ms (status ${evidence.status})`, last);
    await sleep(timingOf(ctx).pollMs * 2);
  }
}

function startError(id: string, reason: string, seen: Observation): SessionStartError {
  const tail = tailOf(seen.screen, 8).join("\n");
  return new SessionStartError(`session ${id} did not start: ${reason}; the last screen lines are in the ledger (\`gaffer log --subject session/${id}\`)`, {
    details: { sessionId: id, reason, screenTail: tail, rule: seen.evidence.ruleId, matched: seen.evidence.matched, exitStatus: seen.pane?.exitStatus ?? null },
  });
}

async function failStart(ctx: SessionServiceContext, id: string, reservationId: string, error: unknown): Promise<void> {
  const reason = error instanceof Error ? error.message : String(error);
  await ctx.tmux.killSession(id).catch(() => false);
  if ((await getSession(ctx.db, id)) !== undefined) {
    const details = (error as { details?: Record<string, unknown> }).details ?? {};
    await changeSession(ctx, id, {
      event: { type: "session.startFailed", at: Date.now() },
      record: { action: "SessionStartFailed", payload: { reason, ...details } },
      set: { closed_at: new Date().toISOString(), close_reason: `start failed: ${reason}`, last_exit_status: (details.exitStatus as number | null | undefined) ?? null },
    });
  }
  await releaseCapacity(ctx.db, reservationId, ctx.actor, `session ${id} failed to start`);
}
