import { HostUnreachableError } from "../errors.js";
import { appendEvent } from "../../state/events.repository.js";
import { readHostOfSession } from "../../state/hosts.repository.js";
import { setTimeout as delay } from "node:timers/promises";
import type { AgentJob } from "./agent-runner.js";
import type { World } from "./world.js";

/** How often a step that needs an unreachable agent host is tried again. */
const HOST_RETRY_MS = 1000;

/**
 * Runs `step` again while the agent host it talks to cannot be reached (a
 * lost ssh link is a fault to wait out, like a full capacity); ledgers the
 * first `HostUnreachable` of the wait. Other errors pass through.
 */
export async function untilReachable<T>(world: World, job: AgentJob, step: () => Promise<T>): Promise<T> {
  let noted = false;
  for (;;) {
    try {
      return await step();
    } catch (error) {
      if (!(error instanceof HostUnreachableError)) throw error;
      if (!noted) {
        noted = true;
        await appendEvent(world.db, { actor: world.actor, action: "HostUnreachable", subject: `task/${job.task.metadata.name}`, payload: { ...error.details, reason: error.message } });
      }
      await delay(HOST_RETRY_MS, undefined, { signal: job.signal });
    }
  }
}

/** A session on an agent host: its work comes back into the local worktree (commits, then changes) before anything reads it. */
export async function collectHostWork(world: World, sessionId: string, job: AgentJob): Promise<void> {
  const name = world.hosts === undefined ? null : await readHostOfSession(world.db, sessionId);
  const host = name === null ? undefined : world.hosts?.hosts.find((h) => h.name === name);
  if (host === undefined) return;
  await untilReachable(world, job, () => world.hosts!.collect(host, { task: job.task.metadata.name, worktree: job.worktree }));
}

/**
 * After a merge (worktreeRetention remove-after-merge): the task's worktrees
 * on the hosts its sessions ran on are removed. Best effort: a host that
 * cannot be reached keeps its copy, and a `WorktreeRetentionFailed` event says so.
 */
export async function removeHostWorktrees(world: World, task: string): Promise<void> {
  if (world.hosts === undefined || world.config.policy.worktreeRetention !== "remove-after-merge") return;
  const rows = await world.db.selectFrom("sessions").innerJoin("reservations", "reservations.id", "sessions.reservation_id").select("reservations.host").distinct().where("sessions.task", "=", task).where("reservations.host", "is not", null).execute();
  for (const row of rows) {
    const host = world.hosts.hosts.find((h) => h.name === row.host);
    if (host === undefined) continue;
    await world.hosts.remove(host, task).catch((error: unknown) => appendEvent(world.db, { actor: world.actor, action: "WorktreeRetentionFailed", subject: `task/${task}`, payload: { host: host.name, error: (error as Error).message } }));
  }
}
