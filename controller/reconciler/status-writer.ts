import type { Actor, SnapshotFrom } from "xstate";
import type { ApprovalJudgement } from "../core/approval-rules.js";
import { approvedCondition } from "../core/approval-rules.js";
import { setCondition, type ConditionUpdate } from "../core/conditions.js";
import type { StagePlan } from "../core/stage-plan.js";
import type { Condition } from "../core/status-types.js";
import { stagePhaseOf, type stageMachine } from "../machines/stage.machine.js";
import type { taskMachine } from "../machines/task.machine.js";
import { StatusFileInvalidError } from "../errors.js";
import { nowIso, type Ledger } from "../../state/ledger.js";
import { readStageStatus, readTaskStatus, writeControllerStatus, writeStageStatus, writeTaskStatus } from "../status/status-store.js";
import { readTaskDetails } from "../../state/task-details.repository.js";
import { readTaskStall } from "../../state/sessions.repository.js";
import { dialectOf } from "../../state/dialect.js";
import type { ManifestState } from "./manifest-tracker.js";

export interface StatusInput {
  readonly dir: string;
  readonly db: Ledger;
  readonly manifests: ManifestState;
  readonly stages: ReadonlyMap<string, SnapshotFrom<typeof stageMachine>>;
  readonly tasks: ReadonlyMap<string, Actor<typeof taskMachine>>;
  readonly plans: ReadonlyMap<string, StagePlan>;
  readonly judgements: ReadonlyMap<string, ApprovalJudgement | null>;
  /**
   * The conditions last written per status file. Only this controller writes them (people edit only
   * `approvals:`), so each file is read once per process, not on every pass.
   */
  readonly conditions: Map<string, readonly Condition[]>;
  /** Each task's ledger details as last read, with the ledger's change stamp then (see LedgerDialect.changeStamp). */
  readonly details: Map<string, TaskLedgerFacts>;
}

/** What a task's status file shows from the ledger: gates, merge, worktree, sessions and any stall. */
interface TaskLedgerFacts {
  readonly stamp: string;
  readonly details: Awaited<ReturnType<typeof readTaskDetails>>;
  readonly stall: Awaited<ReturnType<typeof readTaskStall>>;
}

/** The task's ledger facts: read again only when the ledger changed since the last read. */
async function taskFacts(input: StatusInput, task: string, stamp: string | null): Promise<Omit<TaskLedgerFacts, "stamp">> {
  const known = input.details.get(task);
  if (stamp !== null && known?.stamp === stamp) return known;
  const facts = { details: await readTaskDetails(input.db, task), stall: await readTaskStall(input.db, task) };
  if (stamp === null) input.details.delete(task);
  else input.details.set(task, { stamp, ...facts });
  return facts;
}

async function previousConditions(input: StatusInput, key: string, read: () => Promise<{ readonly status: { readonly conditions: readonly Condition[] } | null }>): Promise<readonly Condition[]> {
  const cached = input.conditions.get(key);
  if (cached !== undefined) return cached;
  return (await read()).status?.conditions ?? [];
}

function remember(input: StatusInput, key: string, conditions: readonly Condition[]): readonly Condition[] {
  input.conditions.set(key, conditions);
  return conditions;
}

function apply(conditions: readonly Condition[], updates: readonly ConditionUpdate[], now: string): Condition[] {
  return updates.reduce<Condition[]>((acc, u) => setCondition(acc, u, now), [...conditions]);
}

const cond = (type: string, on: boolean, reason: string, message: string, generation: string): ConditionUpdate => ({ type, status: on ? "True" : "False", reason, message, observedGeneration: generation });

/** Rewrites every status file from what the controller holds; unchanged files are not touched. */
export async function writeAllStatus(input: StatusInput): Promise<void> {
  const set = input.manifests.applied;
  const now = nowIso();
  const generation = set?.generation ?? "";
  for (const [name, plan] of input.plans) {
    try {
      await writeStage(input, name, plan, generation, now);
    } catch (error) {
      // A person's typo in one stage's approvals: that file is left as it is (never overwritten), the rest go on.
      if (!(error instanceof StatusFileInvalidError)) throw error;
    }
  }
  await writeTasks(input, generation, now);
  await writeController(input, generation);
}

async function writeStage(input: StatusInput, name: string, plan: StagePlan, generation: string, now: string): Promise<void> {
  const set = input.manifests.applied;
  const snapshot = input.stages.get(name);
  const phase = snapshot === undefined ? "Pending" : stagePhaseOf(snapshot.value);
  const previous = await previousConditions(input, `stage/${name}`, () => readStageStatus(input.dir, name));
  const judgement = input.judgements.get(name) ?? null;
  const reason = snapshot?.context.reason ?? null;
  const updates: ConditionUpdate[] = [
    cond("Ready", phase === "Passed", phase, phase === "Passed" ? "every task merged with passing gates" : `stage is ${phase}`, generation),
    cond("Reconciling", phase === "Running" || phase === "Gating", phase, `stage is ${phase}`, generation),
    cond("Stalled", phase === "Failed" || phase === "Blocked", phase === "Failed" || phase === "Blocked" ? phase : "Progressing", reason ?? (phase === "Blocked" ? "allocation cannot staff every role" : "no problem"), generation),
  ];
  if (judgement !== null) updates.push(approvedCondition(judgement, generation));
  else if (!plan.approvalRequired) updates.push(cond("Approved", true, "NotRequired", "this stage has no needs and approval: none", generation));
  const tasks = (set?.tasks ?? []).filter((t) => t.spec.stage === name).map((t) => ({ name: t.metadata.name, phase: String(input.tasks.get(t.metadata.name)?.getSnapshot().value ?? "Pending") }));
  await writeStageStatus(input.dir, name, {
    observedGeneration: generation,
    phase,
    conditions: remember(input, `stage/${name}`, apply(previous, updates, now)),
    details: { needs: [...(plan.stage.needs ?? [])], tasks, ...(reason === null ? {} : { reason }), blocked: plan.report.roles.filter((r) => r.blocked.length > 0).map((r) => ({ role: r.role, reasons: r.blocked })) },
    proposal: plan.proposal,
    ...(plan.request === null ? {} : { approvalRequest: plan.request }),
  });
}

async function writeTasks(input: StatusInput, generation: string, now: string): Promise<void> {
  const set = input.manifests.applied;
  // An idle controller's pass changes nothing: 50 tasks' five reads each are answered from the last pass.
  const stamp = await dialectOf(input.db).changeStamp(input.db);
  for (const task of set?.tasks ?? []) {
    const name = task.metadata.name;
    const snapshot = input.tasks.get(name)?.getSnapshot();
    const phase = String(snapshot?.value ?? "Pending");
    const previous = await previousConditions(input, `task/${name}`, () => readTaskStatus(input.dir, name));
    const { details, stall } = await taskFacts(input, name, stamp);
    const lastGate = details.gates.length === 0 ? null : details.gates.every((g) => g.state === "passed");
    const updates = [
      cond("Ready", phase === "Merged", phase, phase === "Merged" ? "merged into the integration branch" : `task is ${phase}`, generation),
      cond("GatePassed", lastGate === true, lastGate === null ? "NotRun" : lastGate ? "Passed" : "Failed", lastGate === null ? "no gate has run yet" : `gate attempt ${details.gates[0]!.attempt}: ${details.gates.map((g) => `${g.command} ${g.state}`).join(", ")}`, generation),
      cond("Merged", phase === "Merged", details.merge?.state ?? "NotQueued", details.merge?.mergeSha ? `merged as ${details.merge.mergeSha}` : (details.merge?.reason ?? "not merged yet"), generation),
      stalledCondition(phase, snapshot?.context.reason ?? null, stall, generation),
    ];
    await writeTaskStatus(input.dir, name, {
      observedGeneration: generation,
      phase,
      conditions: remember(input, `task/${name}`, apply(previous, updates, now)),
      details: { stage: task.spec.stage, role: task.spec.role, attempt: snapshot?.context.attempt ?? 1, round: snapshot?.context.round ?? 0, gateAttempts: snapshot?.context.gateAttempts ?? 0, resolveAttempts: snapshot?.context.resolveAttempts ?? 0, ...details, ...(snapshot?.context.reason ? { reason: snapshot.context.reason } : {}) },
    });
  }
}

/** Stalled: the task Failed, or its agent needs a person (a dialog, a question, a lasting error; the session's reason). */
function stalledCondition(phase: string, reason: string | null, stall: Awaited<ReturnType<typeof readTaskStall>>, generation: string): ConditionUpdate {
  if (phase === "Failed") return cond("Stalled", true, "Failed", reason ?? "no problem", generation);
  if (stall !== null && phase !== "Merged") return cond("Stalled", true, stall.reason, stall.message, generation);
  return cond("Stalled", false, "Progressing", reason ?? "no problem", generation);
}

async function writeController(input: StatusInput, generation: string): Promise<void> {
  const set = input.manifests.applied;
  const m = input.manifests;
  await writeControllerStatus(input.dir, {
    observedGeneration: generation || null,
    phase: m.errors.length > 0 ? "Degraded" : set === null ? "Pending" : "Reconciling",
    conditions: [],
    lastAttemptedRevision: m.attempted.revision,
    lastAppliedRevision: m.appliedRevision,
    sourceDirty: m.attempted.dirty,
    manifestErrors: m.errors,
  });
}
