import { execa } from "execa";
import { TmuxAdapter } from "../adapters/tmux.js";
import { findStage } from "../core/project-config.js";
import type { TaskManifest } from "../core/manifest-types.js";
import { CapacityExceededError, GateFailedError } from "../errors.js";
import type { GateReviewer, ReviewVerdict } from "../gates/gate-runner.js";
import type { SessionServiceContext } from "../sessions/context.js";
import { closeSession } from "../sessions/close-session.js";
import { createSession } from "../sessions/create-session.js";
import { sendCommand } from "../sessions/send-command.js";
import type { ConflictResolver } from "../workspace/conflicts.js";
import { appendEvent } from "../../state/events.repository.js";
import type { SessionRecord } from "../../state/sessions.repository.js";
import { rememberReview } from "./memory-writer.js";
import type { World } from "./world.js";

const OPEN_STATES = ["Starting", "Idle", "Running", "Waiting", "Stuck", "Backoff", "Restarting"];

export interface AgentJob {
  readonly task: TaskManifest;
  readonly role: string;
  readonly worktree: string;
  readonly text: string;
  /** Idempotency key of the prompt: a done command with this key is never sent again. */
  readonly key: string;
  readonly signal: AbortSignal;
}

export interface AgentJobResult {
  readonly sessionId: string;
  readonly summary: string;
  /** The pane's last lines when the command finished (verdicts are read from here). */
  readonly screen: string;
}

const wait = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(timer), reject(signal.reason)), { once: true });
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
    return { db: w.db, tmux: new TmuxAdapter({ socket: w.config.tmuxSocket }), limits: w.limits, actor: w.actor, agents: w.agents };
  }

  async lastSession(task: string): Promise<string | null> {
    const row = await this.world().db.selectFrom("sessions").select("id").where("task", "=", task).orderBy("created_at", "desc").executeTakeFirst();
    return row?.id ?? null;
  }

  async run(job: AgentJob): Promise<AgentJobResult> {
    const w = this.world();
    const previous = await w.db.selectFrom("commands").select(["state", "summary", "session_id"]).where("idempotency_key", "=", job.key).executeTakeFirst();
    if (previous?.state === "done") return { sessionId: previous.session_id, summary: previous.summary ?? "", screen: "" };
    await this.waitWhilePaused(job);
    const ctx = this.context();
    const session = await this.sessionFor(ctx, job);
    // A command whose session died before it was acknowledged is re-sent to the new session under a derived key.
    const key = previous !== undefined && previous.session_id !== session.id ? `${job.key}@${session.id}` : job.key;
    const command = await sendCommand(ctx, { sessionId: session.id, text: job.text, waitFor: "done", idempotencyKey: key, timeoutMs: w.agents.find((a) => a.name === session.agent)?.stuckAfterMs ?? 600_000 });
    const screen = await ctx.tmux.capturePane(session.tmuxName, 200).catch(() => "");
    // Paused (or stopped) meanwhile: the session now belongs to the person; leave it open.
    if (job.signal.aborted) return { sessionId: session.id, summary: command.summary ?? "", screen };
    if (command.state !== "done") {
      throw new GateFailedError(`prompt to session ${session.id} ended ${command.state}: ${JSON.stringify(command.evidence ?? {})}; attach with \`tmux -L ${session.tmuxSocket} attach -t ${session.tmuxName}\``);
    }
    await closeSession(ctx, session.id).catch(() => undefined);
    return { sessionId: session.id, summary: command.summary ?? "", screen };
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
    const open = await w.db.selectFrom("sessions").select("id").where("task", "=", job.task.metadata.name).where("role", "=", job.role).where("state", "in", OPEN_STATES).orderBy("created_at", "desc").executeTakeFirst();
    if (open !== undefined) {
      const alive = await ctx.tmux.hasSession(open.id);
      if (alive) return (await import("../../state/sessions.repository.js")).getSession(w.db, open.id).then((s) => s!);
    }
    const stage = findStage(w.set, job.task.spec.stage);
    const role = stage?.roles.find((r) => r.name === job.role);
    const allowed = role?.allowedAgents.filter((a) => w.agents.some((x) => x.name === a)) ?? [];
    let waited = false;
    for (;;) {
      for (const agent of allowed) {
        try {
          return await createSession(ctx, { task: job.task.metadata.name, agent, ...(role?.model === undefined ? {} : { model: role.model }), role: job.role, stage: job.task.spec.stage, worktree: job.worktree });
        } catch (error) {
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

  /** A reviewer-role session judges the diff; its `VERDICT:` line is parsed, never guessed. */
  reviewer(task: TaskManifest, signal: AbortSignal): GateReviewer {
    return {
      review: async ({ worktree, headSha }): Promise<ReviewVerdict> => {
        const w = this.world();
        const stage = findStage(w.set, task.spec.stage);
        const role = stage?.roles.find((r) => r.name === "reviewer")?.name ?? stage?.roles.find((r) => r.name !== task.spec.role)?.name ?? task.spec.role;
        const base = w.config.integrationBranch;
        const diff = await execa("git", ["diff", `${base}...HEAD`], { cwd: worktree, reject: false });
        const text = reviewPrompt(task.metadata.name, base, headSha, diff.stdout);
        const result = await this.run({ task, role, worktree, text, key: `task:${task.metadata.name}:review:${headSha ?? "head"}`, signal });
        const verdict = parseVerdict(result);
        await rememberReview(this.world(), { task: task.metadata.name, stage: task.spec.stage, headSha, ...verdict });
        return verdict;
      },
    };
  }

  /** A resolver-role session (or the task's own role) resolves the conflict in the task's worktree. */
  resolver(task: TaskManifest, round: number, signal: AbortSignal): ConflictResolver {
    return {
      resolve: async (request) => {
        const stage = findStage(this.world().set, task.spec.stage);
        const role = stage?.roles.find((r) => r.name === "resolver")?.name ?? task.spec.role;
        const result = await this.run({ task, role, worktree: request.worktree, text: request.prompt, key: `task:${task.metadata.name}:resolve:${round}`, signal });
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
