import { runGit } from "../governance/git-cli.js";
import { findStage } from "../core/project-config.js";
import type { TaskManifest } from "../core/manifest-types.js";
import { AgentNotInstalledError, CapacityExceededError, CommandFailedError, CommandStrandedError } from "../errors.js";
import type { GateReviewer, ReviewVerdict } from "../gates/gate-runner.js";
import type { SessionServiceContext } from "../sessions/context.js";
import { closeSession } from "../sessions/close-session.js";
import { adoptStartingSession, createSession } from "../sessions/create-session.js";
import { sendCommand } from "../sessions/send-command.js";
import type { ConflictResolver } from "../workspace/conflicts.js";
import { appendEvent } from "../../state/events.repository.js";
import { setCommandSummary } from "../../state/commands.repository.js";
import { getSession, type SessionRecord } from "../../state/sessions.repository.js";
import { collectHostWork, untilReachable } from "./host-steps.js";
import { continuePrompt } from "./continue-after-crash.js";
import { rememberReview } from "./memory-writer.js";
import { CONTROLLER_SESSION_TIMING, type World } from "./world.js";
import { sessionHasTag, sessionStatesTagged } from "../machines/session-lifecycle.js";

/** A safety net only (a week): a live agent's prompt ends by done, failed, stranded, Stuck or Crashed. */
const PROMPT_TIMEOUT_MS = 7 * 24 * 3_600_000;


export interface AgentJob {
  readonly task: TaskManifest;
  readonly role: string;
  readonly worktree: string;
  readonly text: string;
  /** Idempotency key of the prompt: a done command with this key is never sent again. */
  readonly key: string;
  readonly signal: AbortSignal;
  /** Start the session on this machine even when hosts are listed (a resolver works on the conflicted checkout here). */
  readonly local?: boolean;
}

export interface AgentJobResult {
  readonly sessionId: string;
  readonly summary: string;
  /** The pane's last lines when the command finished (verdicts are read from here). */
  readonly screen: string;
}

/** Waits `ms` unless `signal` aborts first; the abort listener is removed either way (kept, each poll added one: MaxListenersExceededWarning). */
const wait = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });

/**
 * Runs one prompt for a task in an agent session: adopts the task's open
 * session or starts one (waiting for capacity when every allowed agent is
 * full), sends the prompt with an idempotency key (a `done` prompt is never
 * re-sent), waits until done, then closes the session to free its slot.
 * Nothing is sent while the task is paused.
 */
export class AgentRunner {
  constructor(private readonly world: () => World) {}

  private context(): SessionServiceContext {
    const w = this.world();
    return { timing: CONTROLLER_SESSION_TIMING, db: w.db, tmux: w.tmux, ...(w.activity === undefined ? {} : { activity: w.activity }), ...(w.hosts === undefined ? {} : { hosts: w.hosts }), limits: w.limits, actor: w.actor, agents: w.agents, controlDir: w.dir, agentAuthor: w.config.policy.agentAuthor };
  }

  /** Closes every open session of a task (its work is merged or failed): the desired number is zero. */
  async closeTaskSessions(task: string, reason: string): Promise<void> {
    const open = await this.world().db.selectFrom("sessions").select("id").where("task", "=", task).where("state", "in", sessionStatesTagged("open")).execute();
    const ctx = this.context();
    for (const session of open) await closeSession(ctx, session.id, reason).catch(() => undefined);
  }

  async lastSession(task: string): Promise<string | null> {
    const row = await this.world().db.selectFrom("sessions").select("id").where("task", "=", task).orderBy("created_at", "desc").executeTakeFirst();
    return row?.id ?? null;
  }

  async run(job: AgentJob): Promise<AgentJobResult> {
    const first = await this.runOnce(job);
    if (first.kind === "result") return first.result;
    if (first.kind === "unacknowledged") {
      // Never acknowledged (its deliverer died mid-delivery): the agent did not start it, so a fresh
      // session gets it once more under a derived key. An acknowledged prompt is never sent twice.
      await closeSession(this.context(), first.sessionId, "prompt stranded before the agent took it").catch(() => undefined);
    }
    // The agent crashed while working: its restarted session gets a new, explicit (ledgered) prompt
    // naming what is already done (commits, diff, the prompt's state) and asking to finish only the
    // rest; the crashed command itself is never re-sent.
    const next = first.kind === "crashed" ? { ...job, key: `${job.key}#after-crash`, text: await continuePrompt(this.world().db, { task: job.task.metadata.name, worktree: job.worktree, text: job.text }, first.key) } : { ...job, key: `${job.key}#resent` };
    const second = await this.runOnce(next);
    if (second.kind === "result") return second.result;
    throw second.error;
  }

  private async runOnce(job: AgentJob): Promise<{ kind: "result"; result: AgentJobResult } | { kind: "unacknowledged" | "crashed"; sessionId: string; key: string; error: Error }> {
    const w = this.world();
    const previous = await w.db.selectFrom("commands").select(["state", "summary", "session_id"]).where("idempotency_key", "=", job.key).executeTakeFirst();
    if (previous?.state === "done") {
      await collectHostWork(this.world(), previous.session_id, job);
      // Done before a restart: its session may still be open (the controller died before closing it).
      await closeSession(this.context(), previous.session_id, "work done before a controller restart").catch(() => undefined);
      // The screen is gone with its session; what it showed was kept as the command's summary.
      return { kind: "result", result: { sessionId: previous.session_id, summary: previous.summary ?? "", screen: previous.summary ?? "" } };
    }
    await this.waitWhilePaused(job);
    const ctx = this.context();
    const session = await untilReachable(w, job, () => this.sessionFor(ctx, job));
    // A pause that landed while the session was starting holds the prompt too.
    await this.waitWhilePaused(job);
    if (job.signal.aborted) return { kind: "result", result: { sessionId: session.id, summary: "", screen: "" } };
    // A command whose session died before it was acknowledged is re-sent to the new session under a derived key.
    const key = previous !== undefined && previous.session_id !== session.id ? `${job.key}@${session.id}` : job.key;
    // No overall cap: an agent may work (or wait for a person) as long as it needs; the health loop
    // decides when a session is Stuck or Crashed, and that ends the command.
    const command = await sendCommand(ctx, { sessionId: session.id, text: job.text, waitFor: "done", idempotencyKey: key, timeoutMs: PROMPT_TIMEOUT_MS });
    const screen = await ctx.tmux.capturePane(session.tmuxName, 200).catch(() => "");
    // What a crashed or stranded agent left is evidence too (the continue prompt reads it); a done prompt's work must arrive.
    await (command.state === "done" ? collectHostWork(w, session.id, job) : collectHostWork(w, session.id, job).catch(() => undefined));
    // Paused (or stopped) meanwhile: the session now belongs to the person; leave it open.
    if (job.signal.aborted) return { kind: "result", result: { sessionId: session.id, summary: command.summary ?? "", screen } };
    if (command.state !== "done") {
      // A prompt that never finished is a delivery or agent failure, never a gate result.
      const error = new (command.state === "stranded" ? CommandStrandedError : CommandFailedError)(`prompt to session ${session.id} ended ${command.state}: ${JSON.stringify(command.evidence ?? {})}; attach with \`tmux -L ${session.tmuxSocket} attach -t ${session.tmuxName}\``);
      // Crashed after Enter (taken or not): continue from the worktree's evidence, never a verbatim re-send.
      if (/^session (crashed|stuck)/.test(String(command.evidence?.reason ?? ""))) return { kind: "crashed", sessionId: session.id, key, error };
      if (command.acknowledgedAt === null) return { kind: "unacknowledged", sessionId: session.id, key, error };
      await closeSession(ctx, session.id, `prompt ended ${command.state}`).catch(() => undefined);
      throw error;
    }
    await closeSession(ctx, session.id).catch(() => undefined);
    return { kind: "result", result: { sessionId: session.id, summary: command.summary ?? "", screen } };
  }

  private async waitWhilePaused(job: AgentJob): Promise<void> {
    let noted = false;
    while (this.world().isPaused(job.task)) {
      if (!noted) {
        noted = true;
        await appendEvent(this.world().db, { actor: this.world().actor, action: "DeliveryHeld", subject: `task/${job.task.metadata.name}`, payload: { reason: "paused", key: job.key } });
      }
      await wait(200, job.signal);
    }
  }

  /** The task's open session for this role, or a new one on the first allowed agent with a free slot. */
  private async sessionFor(ctx: SessionServiceContext, job: AgentJob): Promise<SessionRecord> {
    const w = this.world();
    const open = await w.db.selectFrom("sessions").select("id").where("task", "=", job.task.metadata.name).where("role", "=", job.role).where("state", "in", sessionStatesTagged("open")).orderBy("created_at", "desc").executeTakeFirst();
    if (open !== undefined) {
      const adopted = await this.adopt(ctx, open.id);
      if (adopted !== null) return adopted;
    }
    const stage = findStage(w.set, job.task.spec.stage);
    const role = stage?.roles.find((r) => r.name === job.role);
    const allowed = role?.allowedAgents.filter((a) => w.agents.some((x) => x.name === a)) ?? [];
    const missing = new Map<string, AgentNotInstalledError>();
    let waited = false;
    for (;;) {
      for (const agent of allowed.filter((a) => !missing.has(a))) {
        try {
          return await createSession(ctx, { task: job.task.metadata.name, agent, ...(role?.model === undefined ? {} : { model: role.model }), role: job.role, stage: job.task.spec.stage, worktree: job.worktree, ...(job.local === true ? { host: null } : {}) });
        } catch (error) {
          if (error instanceof AgentNotInstalledError) {
            // Fall back to the next allowed agent, and say so; with none left the task fails with the install hint.
            missing.set(agent, error);
            const next = allowed.find((a) => !missing.has(a)) ?? null;
            await appendEvent(w.db, { actor: w.actor, action: "AgentFallback", subject: `task/${job.task.metadata.name}`, payload: { role: job.role, agent, fallback: next, reason: error.message } });
            if (next === null) throw error;
            continue;
          }
          if (!(error instanceof CapacityExceededError)) throw error;
        }
      }
      if (!waited) {
        waited = true;
        await appendEvent(w.db, { actor: w.actor, action: "CapacityWait", subject: `task/${job.task.metadata.name}`, payload: { role: job.role, allowed } });
      }
      await wait(250, job.signal);
    }
  }

  /**
   * Adopts a session a previous controller started. One it left `Starting`
   * (killed before the ready screen was recorded) is checked for its ready
   * screen now; a dead or never-ready one is closed and replaced.
   */
  private async adopt(ctx: SessionServiceContext, id: string): Promise<SessionRecord | null> {
    let session = await getSession(ctx.db, id);
    const deadline = Date.now() + 60_000;
    while (session !== undefined && sessionHasTag(session.state, "recovering") && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      session = await getSession(ctx.db, id);
    }
    if (session !== undefined && (!sessionHasTag(session.state, "open") || sessionHasTag(session.state, "recovering"))) return null;
    if (session === undefined || !(await ctx.tmux.hasSession(session.tmuxName))) {
      if (session !== undefined) await closeSession(ctx, id, "its tmux session is gone").catch(() => undefined);
      return null;
    }
    if (session.state !== "Starting") return session;
    const agent = ctx.agents.find((a) => a.name === session.agent);
    try {
      if (agent === undefined) throw new Error(`agent ${session.agent} is no longer in the AgentPool`);
      return await adoptStartingSession(ctx, id, agent);
    } catch {
      await closeSession(ctx, id, "left starting by a stopped controller and never ready").catch(() => undefined);
      return null;
    }
  }

  /** A reviewer-role session judges the diff; its `VERDICT:` line is parsed, never guessed. */
  reviewer(task: TaskManifest, signal: AbortSignal): GateReviewer {
    return {
      review: async ({ worktree, headSha }): Promise<ReviewVerdict> => {
        const w = this.world();
        const stage = findStage(w.set, task.spec.stage);
        const role = stage?.roles.find((r) => r.name === "reviewer")?.name ?? stage?.roles.find((r) => r.name !== task.spec.role)?.name ?? task.spec.role;
        const base = w.config.integrationBranch;
        const diff = await runGit(worktree, ["diff", `${base}...HEAD`], { check: false });
        const text = reviewPrompt(task.metadata.name, base, headSha, diff.stdout.replace(/\n$/, ""));
        const key = `task:${task.metadata.name}:review:${headSha ?? "head"}`;
        const result = await this.run({ task, role, worktree, text, key, signal });
        const verdict = parseVerdict(result);
        // The same head is reviewed once: a later gate on it (the merge queue's) reads this verdict back.
        await setCommandSummary(this.world().db, key, `VERDICT: ${verdict.approved ? "approve" : "request-changes"}${verdict.approved ? "" : `: ${verdict.summary}`}`);
        await rememberReview(this.world(), { task: task.metadata.name, stage: task.spec.stage, headSha, ...verdict });
        return verdict;
      },
    };
  }

  /** A resolver-role session (or the task's own role) resolves the conflict in the task's worktree; `key` is the prompt's idempotency key (see resolveKey). */
  resolver(task: TaskManifest, key: string, signal: AbortSignal): ConflictResolver {
    return {
      resolve: async (request) => {
        const stage = findStage(this.world().set, task.spec.stage);
        const role = stage?.roles.find((r) => r.name === "resolver")?.name ?? task.spec.role;
        // A merge in progress lives in this checkout's index, which a host's worktree cannot have: resolved here.
        const result = await this.run({ task, role, worktree: request.worktree, text: request.prompt, key, signal, local: true });
        return { summary: result.summary || `resolved by session ${result.sessionId}` };
      },
    };
  }
}

const DIFF_LINES = 300;

/** The review prompt: the diff and the one answer format gaffer accepts. */
export function reviewPrompt(task: string, base: string, headSha: string | null, diff: string): string {
  const lines = diff.split("\n");
  const shown = lines.slice(0, DIFF_LINES).join("\n");
  return [
    `Review request: task ${task}, base ${base}, head ${headSha ?? "HEAD"}.`,
    // NOTE: no line of the prompt starts with "VERDICT:", so the echoed prompt can never read as an answer.
    "Review the change below. Answer with exactly one line, either `VERDICT: approve` or `VERDICT: request-changes: <your findings, one sentence each>`.",
    "",
    "```diff",
    shown + (lines.length > DIFF_LINES ? `\n... (${lines.length - DIFF_LINES} more lines)` : ""),
    "```",
  ].join("\n");
}

/** The last `VERDICT:` line of the reviewer's screen; no verdict is a request for changes, never an approval. */
export function parseVerdict(result: AgentJobResult): ReviewVerdict {
  const verdicts = [...result.screen.matchAll(/^VERDICT: (approve|request-changes)(?::\s*(.*))?$/gm)];
  const last = verdicts.at(-1);
  if (last === undefined) return { reviewer: result.sessionId, approved: false, summary: "the reviewer gave no VERDICT line" };
  return { reviewer: result.sessionId, approved: last[1] === "approve", summary: last[2]?.trim() || (last[1] === "approve" ? "approved" : "changes requested") };
}
