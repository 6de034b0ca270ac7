/**
 * The task machine's persistence: the only code that writes a task's row.
 * A verb acting on a task (a person's `gaffer merge` / `resolve`, the MCP
 * tools, a cancellation) sends the task's machine an event: the machine is
 * restored from the row, decides, and its snapshot is written over the
 * revision it was loaded from, with the caller's reason and evidence in the
 * `TaskPhaseChanged` event. An event the machine refuses writes nothing. The
 * controller's task actors save through `saveTaskSnapshot` with the revision
 * they hold; a save over a newer revision is refused, and the controller
 * reloads that task from the ledger.
 */
import { transition, type SnapshotFrom } from "xstate";
import { taskMachine, type TaskCommand, type TaskContext } from "../machines/task.machine.js";
import { immediateTransaction, type Ledger } from "../../state/ledger.js";
import { readTaskState, writeTaskState, type TaskIdentity, type TaskState, type TaskStateWrite } from "../../state/task-phase.repository.js";

type TaskSnapshot = SnapshotFrom<typeof taskMachine>;

/** What the store needs: the ledger (a transaction of the caller's change), who acts, and the attempt limits. */
export interface TaskStoreContext {
  readonly db: Ledger;
  readonly actor: string;
  readonly policy: { readonly maxGateAttempts: number; readonly maxResolveAttempts: number };
}

/** An event for a task's machine, and what to record when it moves the task. */
export interface TaskChange {
  readonly event: TaskCommand;
  readonly reason: string;
  readonly evidence?: Readonly<Record<string, unknown>>;
}

/** Whether the machine accepted the change, and the task's phase afterwards. */
export interface TaskChangeResult {
  readonly changed: boolean;
  readonly phase: string;
}

const PHASES = new Set(Object.keys(taskMachine.config.states ?? {}));

/** The task's machine as the row holds it: its snapshot, else its phase and counters, else a new task. */
export function restoreTask(row: TaskState | null, name: string, policy: TaskStoreContext["policy"]): TaskSnapshot {
  const fresh: TaskContext = { name, maxGateAttempts: policy.maxGateAttempts, maxResolveAttempts: policy.maxResolveAttempts, attempt: 1, gateAttempts: row?.gateAttempts ?? 0, resolveAttempts: row?.resolveAttempts ?? 0, feedback: null, conflictedFiles: [], reason: null, round: 0, retryOf: null };
  const saved = row?.snapshot as { value?: unknown; context?: TaskContext } | null | undefined;
  if (saved?.context !== undefined && typeof saved.value === "string" && PHASES.has(saved.value)) return taskMachine.resolveState({ value: saved.value, context: { ...fresh, ...saved.context } });
  return taskMachine.resolveState({ value: row !== null && PHASES.has(row.phase) ? row.phase : "Pending", context: fresh });
}

const same = (a: TaskSnapshot, b: TaskSnapshot): boolean => a.value === b.value && JSON.stringify(a.context) === JSON.stringify(b.context);

/**
 * Sends a task's machine one event and writes its decision (nothing when it
 * refuses). Call it inside the transaction of the change it belongs to.
 */
export async function changeTask(ctx: TaskStoreContext, task: TaskIdentity, change: TaskChange): Promise<TaskChangeResult> {
  for (;;) {
    const row = await readTaskState(ctx.db, task.name);
    const before = restoreTask(row, task.name, ctx.policy);
    // A final task (Merged, Failed, Cancelled) takes no event, as a running actor would not: the pure step must not either.
    const [after] = before.status === "done" ? [before] : transition(taskMachine, before, change.event);
    if (same(before, after)) return { changed: false, phase: String(before.value) };
    const identity = row === null ? task : { name: row.name, stage: row.stage, role: row.role };
    const written = await writeTaskState(ctx.db, { ...identity, ...decision(after), expected: row?.revision ?? null, actor: ctx.actor, reason: change.reason, ...(change.evidence === undefined ? {} : { evidence: change.evidence }) });
    // Outside a transaction another writer may come between the read and the write: decide again on its row.
    if (written !== null) return { changed: true, phase: String(after.value) };
  }
}

/** The columns of a machine's decision: phase, snapshot (its invoked effect included, to run where the controller restores it), counters. */
function decision(snapshot: TaskSnapshot): Pick<TaskStateWrite, "phase" | "snapshot" | "gateAttempts" | "resolveAttempts"> {
  return { phase: String(snapshot.value), snapshot: taskMachine.getPersistedSnapshot(snapshot), gateAttempts: snapshot.context.gateAttempts, resolveAttempts: snapshot.context.resolveAttempts };
}

/** A controller task actor's save: its persisted snapshot over the revision it holds ("any": a rebuild from git). */
export interface TaskSnapshotSave extends TaskIdentity {
  readonly phase: string;
  readonly snapshot: unknown;
  readonly context: Pick<TaskContext, "gateAttempts" | "resolveAttempts" | "reason">;
  readonly expected: number | null | "any";
  readonly actor: string;
}

/** Saves a controller actor's snapshot in its own transaction; null when the row moved on (the caller reloads the task). */
export async function saveTaskSnapshot(db: Ledger, save: TaskSnapshotSave): Promise<{ readonly revision: number; readonly moved: boolean } | null> {
  return immediateTransaction(db, (trx) =>
    writeTaskState(trx, { name: save.name, stage: save.stage, role: save.role, phase: save.phase, snapshot: save.snapshot, gateAttempts: save.context.gateAttempts, resolveAttempts: save.context.resolveAttempts, expected: save.expected, actor: save.actor, reason: save.context.reason }),
  );
}
