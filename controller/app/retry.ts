import type { ManifestSet } from "../core/manifest-types.js";
import { findStage, findTask } from "../core/project-config.js";
import { NotFoundError } from "../errors.js";
import type { Ledger } from "../../state/ledger.js";
import { pendingRetries, readRetryStates, requestRetries } from "../../state/retries.repository.js";

/** What the retry service needs: the ledger, the applied manifests, and who asks. */
export interface RetryPorts {
  readonly db: Ledger;
  readonly set: ManifestSet;
  readonly actor: string;
}

/** One task's answer: a new request, one already waiting for the controller, or nothing to retry. */
export interface TaskRetryOutcome {
  readonly task: string;
  readonly outcome: "requested" | "already-requested" | "not-failed";
  /** The task's phase in the ledger (null when it never ran). */
  readonly phase: string | null;
  /** The `RetryRequested` event id (new or already waiting); null for `not-failed`. */
  readonly request: number | null;
}

/** The result of `gaffer retry TARGET`. */
export interface RetryResult {
  readonly target: string;
  readonly kind: "task" | "stage";
  /** True when at least one new request was recorded. */
  readonly changed: boolean;
  readonly tasks: readonly TaskRetryOutcome[];
}

/**
 * `gaffer retry TASK|STAGE`: asks the controller for a new attempt of a
 * Failed task (or of every Failed task of a stage). Only a request is
 * recorded (a `RetryRequested` event naming who asked): the task's state
 * belongs to its machine, and the controller, woken by the ledger write,
 * starts the new round (fresh session, the task's worktree, counters reset)
 * and reopens the stage. Idempotent: a task that is not Failed, or whose
 * retry is already waiting, changes nothing.
 */
export async function retryTarget(ports: RetryPorts, target: string): Promise<RetryResult> {
  const task = findTask(ports.set, target);
  const stage = task === undefined ? findStage(ports.set, target) : undefined;
  if (task === undefined && stage === undefined) throw new NotFoundError(`no task or stage named "${target}"; \`gaffer status\` lists them`);
  const names = task !== undefined ? [target] : ports.set.tasks.filter((t) => t.spec.stage === target).map((t) => t.metadata.name);
  const states = await readRetryStates(ports.db, names);
  const failed = states.filter((s) => s.phase === "Failed");
  const waiting = await pendingRetries(ports.db, failed);
  const fresh = failed.filter((s) => !waiting.has(s.task)).map((s) => s.task);
  const ids = fresh.length === 0 ? new Map<string, number>() : await requestRetries(ports.db, { tasks: fresh, actor: ports.actor, target: task !== undefined ? `task/${target}` : `stage/${target}` });
  const tasks = states.map((s): TaskRetryOutcome => {
    if (ids.has(s.task)) return { task: s.task, outcome: "requested", phase: s.phase, request: ids.get(s.task)! };
    if (waiting.has(s.task)) return { task: s.task, outcome: "already-requested", phase: s.phase, request: waiting.get(s.task)!.id };
    return { task: s.task, outcome: "not-failed", phase: s.phase, request: null };
  });
  return { target, kind: task !== undefined ? "task" : "stage", changed: ids.size > 0, tasks };
}

/** The one-line answer for people, per task. */
export function describeRetry(result: RetryResult): string[] {
  if (result.kind === "stage" && !result.tasks.some((t) => t.outcome !== "not-failed")) return [`stage ${result.target} has no Failed task; nothing to retry`];
  return result.tasks
    .filter((t) => result.kind === "task" || t.outcome !== "not-failed")
    .map((t) =>
      t.outcome === "requested"
        ? `retry of task ${t.task} requested (event ${t.request}): the controller starts a new attempt with a fresh session; \`gaffer status\` shows it`
        : t.outcome === "already-requested"
          ? `retry of task ${t.task} was already requested (event ${t.request}) and waits for the controller; nothing changed`
          : `task ${t.task} is ${t.phase ?? "Pending"}, not Failed; nothing to retry`,
    );
}
