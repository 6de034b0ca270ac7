import type { Logger } from "pino";
import { createActor, transition, type Actor, type SnapshotFrom } from "xstate";
import { resolveAgent } from "../core/agent-profiles.js";
import { capacityLimits } from "../core/capacity.js";
import { resolveHosts } from "../core/hosts.js";
import { withAgentHosts } from "../app/host-world.js";
import type { ManifestSet } from "../core/manifest-types.js";
import { allAgents, allStages, resolveProject } from "../core/project-config.js";
import { orderStages, planStage, type StagePlan } from "../core/stage-plan.js";
import { stageMachine, stagePhaseOf, type StageFacts } from "../machines/stage.machine.js";
import { taskMachine, type TaskEffects } from "../machines/task.machine.js";
import { evaluateApprovals } from "../governance/approvals.js";
import type { ApprovalJudgement } from "../core/approval-rules.js";
import type { Condition } from "../core/status-types.js";
import { recordApprovalVerdicts } from "../../state/approvals.repository.js";
import { listPauses, loadStageRecords, loadTaskRecords, saveStage } from "../../state/controller.repository.js";
import { readTaskRevisions, readTaskState } from "../../state/task-phase.repository.js";
import { saveTaskSnapshot } from "../tasks/task-store.js";
import type { Ledger } from "../../state/ledger.js";
import type { Git, ScreenActivity, Tmux } from "../ports.js";
import { closeSession } from "../sessions/close-session.js";
import { resyncSettledLooks } from "../sessions/context.js";
import { dialectOf } from "../../state/dialect.js";
import { checkSessionHealth, recoverSession } from "../sessions/health.js";
import { releaseOrphanedReservations } from "../../state/capacity.repository.js";
import { getSession, listSessions, type SessionRecord } from "../../state/sessions.repository.js";
import type { LookResult } from "./activity-observer.js";
import { StatusFileInvalidError } from "../errors.js";
import { ManifestTracker } from "./manifest-tracker.js";
import { isLedgerEmpty, recognizeLandedTasks } from "./world-memory.js";
import { rememberApproval, rememberPlan, rememberStageSummary } from "./memory-writer.js";
import { writeAllStatus, type StatusInput } from "./status-writer.js";
import { CONTROLLER_SESSION_TIMING, isTaskPaused, type World } from "./world.js";
import { cancelRemovedTask, changedSettledTasks, SETTLED_PHASES } from "./task-lifecycle.js";
import { taskSpecDigest } from "../core/plan-digest.js";
import { ApprovalMemo } from "./approval-memo.js";
import { readFile } from "node:fs/promises";
import { resolve as resolvePath } from "node:path";
import { appendEvent } from "../../state/events.repository.js";
import { pendingRetries } from "../../state/retries.repository.js";
import { sessionHasTag } from "../machines/session-lifecycle.js";

type StageSnapshot = SnapshotFrom<typeof stageMachine>;
type TaskActor = Actor<typeof taskMachine>;

/** How often settled looks are checked against tmux's record of output (a third of RESYNC_LOOK_MS: none expires between two). */
const LOOK_RESYNC_MS = 10_000;
/** A health round runs at least this often, quiet or not. */
const QUIET_ROUND_MAX_MS = 30_000;
/** Phases in which a task has an effect under way. */
const BUSY_PHASES = new Set(["Provisioning", "Working", "Committing", "Gating", "Merging", "Resolving"]);
const PAST_WORK = new Set(["Gating", "Merging", "Merged", "Conflict", "Resolving"]);
/** A pane's output before the first manifest set is applied is looked at again this often, for this long after start. */
const NOT_READY_LOOK_AGAIN_MS = 250;
const NOT_READY_LOOK_FOR_MS = 60_000;

export interface ControllerOptions {
  readonly dir: string;
  readonly db: Ledger;
  readonly logger: Logger;
  /** Builds the real task effects; they read the world through `world()` on every call. */
  readonly effects: (world: () => World) => TaskEffects;
  readonly actor?: string;
  /** gaffer's tmux server for a socket name, built once per process by the composition root. */
  readonly tmuxFor: (socket: string) => { readonly tmux: Tmux; readonly activity?: ScreenActivity };
  /** The Git port, built by the composition root. */
  readonly git: Git;
}

/** What one pass saw and did, for logs, `--once` and status. */
export interface PassResult {
  readonly changed: boolean;
  readonly plans: ReadonlyMap<string, StagePlan>;
  readonly judgements: ReadonlyMap<string, ApprovalJudgement | null>;
}

/**
 * The level-triggered reconciler: each pass re-reads manifests, approvals,
 * pauses and the ledger, sends what it observed to the stage machines (pure,
 * fact-driven) and task actors (which run one idempotent effect per state),
 * persists every snapshot, and rewrites the status files (a no-op when
 * nothing changed).
 */
export class Controller {
  readonly actor: string;
  private readonly startedAt = Date.now();
  private readonly tracker: ManifestTracker;
  private readonly stages = new Map<string, StageSnapshot>();
  /** Stages whose snapshot this process has saved at least once (a restored stage is saved again on its first pass). */
  private readonly savedStages = new Set<string>();
  /** Conditions last written per status file (see StatusInput.conditions). */
  private readonly conditions = new Map<string, readonly Condition[]>();
  /** Each task's ledger facts for its status file, with the ledger's change stamp when read. */
  private readonly taskFacts: StatusInput["details"] = new Map();
  private readonly tasks = new Map<string, TaskActor>();
  private readonly machine: typeof taskMachine;
  private pauses: ReadonlySet<string> = new Set();
  private saving: Promise<unknown> = Promise.resolve();
  private listeners = new Set<() => void>();
  private readonly approvals: ApprovalMemo<ApprovalJudgement | null>;

  constructor(private readonly options: ControllerOptions) {
    this.actor = options.actor ?? "controller";
    this.tracker = new ManifestTracker(options.dir, options.db, this.actor);
    this.approvals = new ApprovalMemo(options.dir);
    this.machine = taskMachine.provide({ actors: options.effects(() => this.world()) });
  }

  /** Calls `listener` whenever a task moves (effects finish between passes). */
  onTaskChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** True while any task has an effect under way. */
  get busy(): boolean {
    return [...this.tasks.values()].some((a) => BUSY_PHASES.has(String(a.getSnapshot().value)));
  }

  private world(): World {
    const set = this.tracker.current.applied;
    if (set === null) throw new Error("no valid manifests applied yet");
    const config = resolveProject(set.project, this.options.dir);
    const agents = allAgents(set).map(resolveAgent);
    const pauses = this.pauses;
    const hosts = resolveHosts(set, this.options.dir);
    const base = this.options.tmuxFor(config.tmuxSocket);
    const { tmux, activity, hosts: agentHosts } = withAgentHosts(base, { hosts, db: this.options.db, logger: this.options.logger });
    return { dir: this.options.dir, db: this.options.db, logger: this.options.logger, actor: this.actor, set, config, agents, limits: capacityLimits(config, agents, hosts), tmux, git: this.options.git, ...(activity === undefined ? {} : { activity }), ...(agentHosts === undefined ? {} : { hosts: agentHosts }), isPaused: (task) => isTaskPaused(set, pauses, task) };
  }

  /** Restores stage snapshots and task actors from the ledger (after a restart). */
  async restore(): Promise<void> {
    await this.tracker.refresh();
    for (const record of await loadStageRecords(this.options.db)) {
      const saved = record.snapshot as { value: StageSnapshot["value"]; context: StageSnapshot["context"] } | null;
      if (saved !== null) this.stages.set(record.name, stageMachine.resolveState({ value: saved.value, context: saved.context }));
    }
    // Task actors start on the first pass with a valid manifest set: their effects need it.
    for (const record of await loadTaskRecords(this.options.db)) {
      if (!this.tasks.has(record.name)) this.revisions.set(record.name, record.revision);
      if (record.snapshot !== null && !this.tasks.has(record.name)) this.restored.set(record.name, record.snapshot);
    }
  }

  /** The ledger revision of each task's row as this process last loaded or saved it (its actor saves only over it). */
  private readonly revisions = new Map<string, number>();
  /** Tasks whose save found a newer row: another process (`gaffer merge`) moved them; reloaded on the next pass. */
  private readonly stale = new Set<string>();

  /**
   * Tasks another process moved since this one loaded or saved them (a newer
   * revision in the ledger) get a new actor from the ledger's snapshot, so a
   * stale actor never overwrites what a person's `gaffer merge` recorded.
   */
  private async reloadChangedTasks(): Promise<void> {
    await this.flush();
    const ledger = await readTaskRevisions(this.options.db);
    for (const [name, actor] of [...this.tasks]) {
      const revision = ledger.get(name);
      if (revision === undefined || (!this.stale.has(name) && revision <= (this.revisions.get(name) ?? -1))) continue;
      this.stale.delete(name);
      const row = await readTaskState(this.options.db, name);
      if (row === null) continue;
      actor.stop();
      this.tasks.delete(name);
      this.revisions.set(name, row.revision);
      this.options.logger.info({ task: name, phase: row.phase, revision: row.revision }, `task ${name}: ${row.phase} in the ledger (another process moved it); reloaded`);
      this.startTask(name, row.snapshot);
      // Not awaited: closing a session may wait on its pane, and the pass must not wait with it.
      if (row.phase === "Merged" || row.phase === "Failed") void this.settled(name, row.phase, { closeSessions: true }).catch((error: unknown) => this.options.logger.error({ err: error, task: name }, `task ${name}: could not settle after reload`));
    }
  }

  /** What follows a task's settling, whoever settled it: the plan goes to memory, a settled task keeps no session open. */
  private async settled(name: string, phase: string, options: { readonly closeSessions: boolean }): Promise<void> {
    const set = this.tracker.current.applied;
    const task = set?.tasks.find((t) => t.metadata.name === name);
    const stage = task === undefined || set === null ? undefined : allStages(set).find((st) => st.name === task.spec.stage);
    // The first stage's output is the plan: it goes to project memory.
    if (phase === "Merged" && stage !== undefined && (stage.needs ?? []).length === 0) await this.rememberPlanOf(name, stage.name);
    if (set !== null && options.closeSessions) await this.closeTaskSessions(name, phase === "Merged" ? "task merged" : "task failed");
  }

  /** Snapshots read by `restore()`, waiting for a valid manifest set. */
  private readonly restored = new Map<string, unknown>();

  private startTask(name: string, snapshot: unknown | null, retry: { readonly round: number; readonly retryOf: number | null } | null = null): TaskActor {
    const policy = this.tracker.current.applied === null ? null : resolveProject(this.tracker.current.applied.project, this.options.dir).policy;
    const input = { name, maxGateAttempts: policy?.maxGateAttempts ?? 3, maxResolveAttempts: policy?.maxResolveAttempts ?? 2, ...(retry ?? {}) };
    const actor = createActor(this.machine, snapshot === null ? { input } : { input, snapshot: snapshot as never });
    let last = "";
    actor.subscribe({
      next: (s) => {
        const phase = String(s.value);
        const key = `${phase}/${s.context.attempt}/${s.context.resolveAttempts}`;
        if (key === last) return;
        last = key;
        this.persistTask(name, actor);
        this.options.logger.info({ task: name, phase, attempt: s.context.attempt }, `task ${name}: ${phase}`);
        for (const listener of this.listeners) listener();
      },
      error: (error) => this.options.logger.error({ task: name, err: error }, `task ${name} actor failed`),
    });
    this.tasks.set(name, actor);
    actor.start();
    return actor;
  }

  private persistTask(name: string, actor: TaskActor): void {
    const set = this.tracker.current.applied;
    const task = set?.tasks.find((t) => t.metadata.name === name);
    const s = actor.getSnapshot();
    const snapshot = actor.getPersistedSnapshot();
    const phase = String(s.value);
    this.saving = this.saving.then(async () => {
      // A replaced actor (reloaded, a new round) saves nothing more.
      if (this.tasks.get(name) !== actor || this.stale.has(name)) return;
      try {
        const saved = await saveTaskSnapshot(this.options.db, { name, stage: task?.spec.stage ?? "?", role: task?.spec.role ?? "?", phase, snapshot, context: s.context, expected: this.revisions.get(name) ?? null, actor: this.actor });
        if (saved === null) {
          // Another process moved the task: the next pass reloads it from the ledger.
          this.stale.add(name);
          for (const listener of this.listeners) listener();
          return;
        }
        this.revisions.set(name, saved.revision);
        // The merge effect closed the task's sessions itself before Merged.
        if (phase === "Merged" || phase === "Failed") await this.settled(name, phase, { closeSessions: phase === "Failed" });
      } catch (error) {
        this.options.logger.error({ err: error, task: name }, "could not persist task snapshot");
      }
    });
  }

  /** Waits until every snapshot so far is in the ledger. */
  async flush(): Promise<void> {
    await this.saving;
  }

  /** One reconcile pass. Returns whether anything changed. */
  async pass(): Promise<PassResult> {
    const manifestsChanged = await this.tracker.refresh();
    const set = this.tracker.current.applied;
    const plans = new Map<string, StagePlan>();
    const judgements = new Map<string, ApprovalJudgement | null>();
    if (set === null) {
      await writeAllStatus({ dir: this.options.dir, db: this.options.db, manifests: this.tracker.current, stages: this.stages, tasks: this.tasks, plans, judgements, conditions: this.conditions, details: this.taskFacts });
      return { changed: false, plans, judgements };
    }
    this.pauses = await listPauses(this.options.db);
    let changed = manifestsChanged;
    const world = this.world();
    await this.readWorldOnce(set);
    await this.reloadChangedTasks();
    // Every task of the applied set has its actor before any stage is judged (a restored Passed stage must see its Merged tasks).
    for (const task of set.tasks) if (!this.tasks.has(task.metadata.name)) this.startTask(task.metadata.name, this.restored.get(task.metadata.name) ?? null);
    if (await this.answerRetries(set)) changed = true;
    if (await this.rerunChangedTasks(set)) changed = true;
    if (await this.cancelRemovedTasks(world)) changed = true;
    const ordered = orderStages(allStages(set));
    this.approvals.reset();
    for (const stage of ordered) plans.set(stage.name, planStage(set, world.config, world.agents, world.limits, stage));
    // Each judgement is a few git calls: all stages are judged at once, so a pass costs the slowest stage, not their sum.
    const judged = await Promise.all(ordered.map((stage) => (plans.get(stage.name)!.request === null ? null : this.judge(stage.name, world, plans.get(stage.name)!))));
    for (const [index, stage] of ordered.entries()) {
      const plan = plans.get(stage.name)!;
      const judgement = judged[index]!;
      judgements.set(stage.name, judgement);
      if (judgement !== null && judgement.verdicts.length > 0) {
        await recordApprovalVerdicts(this.options.db, { stage: stage.name, judgement, actor: this.actor });
        await rememberApproval(world, stage.name, judgement);
      }
      if (await this.observeStage(set, plan, judgement)) changed = true;
    }
    for (const task of set.tasks) {
      const name = task.metadata.name;
      const actor = this.tasks.get(name)!;
      if (actor.getSnapshot().status === "done") continue;
      const before = JSON.stringify(actor.getSnapshot().value);
      const stagePhase = stagePhaseOf(this.stages.get(task.spec.stage)?.value ?? { Active: "Pending" });
      const depsMerged = (task.spec.dependsOn ?? []).every((d) => this.tasks.get(d)?.getSnapshot().value === "Merged");
      actor.send({ type: "task.observed", facts: { stageRunning: stagePhase === "Running" || stagePhase === "Gating", depsMerged, paused: world.isPaused(task), specDigest: taskSpecDigest(task) } });
      if (JSON.stringify(actor.getSnapshot().value) !== before) changed = true;
    }
    await this.flush();
    await writeAllStatus({ dir: this.options.dir, db: this.options.db, manifests: this.tracker.current, stages: this.stages, tasks: this.tasks, plans, judgements, conditions: this.conditions, details: this.taskFacts });
    return { changed, plans, judgements };
  }

  private worldRead = false;

  /** On a new or emptied ledger, rebuilds its memory from git and the status files before anything acts (world-memory.ts). */
  private async readWorldOnce(set: ManifestSet): Promise<void> {
    if (this.worldRead) return;
    this.worldRead = true;
    if (this.tasks.size > 0 || this.restored.size > 0 || this.stages.size > 0 || !(await isLedgerEmpty(this.options.db))) return;
    const report = await recognizeLandedTasks({ dir: this.options.dir, db: this.options.db, git: this.options.git, set, actor: this.actor });
    if (report.merged.length === 0) return;
    this.options.logger.warn({ merged: report.merged.map((m) => m.task), toRun: report.toRun }, `empty ledger: ${report.merged.length} task(s) already merged recorded Merged, not run again`);
    await appendEvent(this.options.db, { actor: this.actor, action: "LedgerRebuilt", subject: "project/ledger", payload: { ledgerWasEmpty: true, merged: report.merged.map((m) => m.task), toRun: report.toRun } });
    for (const record of await loadTaskRecords(this.options.db)) {
      this.revisions.set(record.name, record.revision);
      if (record.snapshot !== null) this.restored.set(record.name, record.snapshot);
    }
  }

  /** The stage's approvals; an unreadable status file leaves it pending (and says so) instead of stopping every stage. */
  private async judge(stage: string, world: World, plan: StagePlan): Promise<ApprovalJudgement | null> {
    try {
      const signers = world.config.policy.requireSignedApprovals && world.config.policy.allowedSignersFile !== null ? await readFile(resolvePath(this.options.dir, world.config.policy.allowedSignersFile), "utf8").catch(() => "") : "";
      const extra = JSON.stringify({ request: plan.request, policy: world.config.policy, signers });
      return await this.approvals.get(stage, extra, () => evaluateApprovals({ dir: this.options.dir, stage, policy: world.config.policy, request: plan.request! }));
    } catch (error) {
      if (!(error instanceof StatusFileInvalidError)) throw error;
      this.options.logger.error({ stage, err: error }, `stage ${stage}: ${error.message}`);
      return null;
    }
  }

  /** Sends the stage's facts until it settles (one step per event); persists a change. */
  private async observeStage(set: ManifestSet, plan: StagePlan, judgement: ApprovalJudgement | null): Promise<boolean> {
    const name = plan.stage.name;
    const start = this.stages.get(name) ?? stageMachine.resolveState({ value: { Active: "Pending" }, context: { name, planDigest: null, reason: null } });
    const facts = this.stageFacts(set, plan, judgement);
    let current = start;
    for (let i = 0; i < 10; i++) {
      const [next] = transition(stageMachine, current, { type: "stage.observed", facts });
      if (JSON.stringify(next.value) === JSON.stringify(current.value) && JSON.stringify(next.context) === JSON.stringify(current.context)) break;
      current = next;
    }
    this.stages.set(name, current);
    const changed = JSON.stringify(current.value) !== JSON.stringify(start.value) || JSON.stringify(current.context) !== JSON.stringify(start.context) || !this.savedStages.has(name);
    if (changed) {
      this.savedStages.add(name);
      const phase = stagePhaseOf(current.value);
      const moved = await saveStage(this.options.db, { name, phase, snapshot: { value: current.value, context: current.context }, actor: this.actor, reason: current.context.reason ?? judgement?.message ?? null, generation: set.generation });
      if (moved && (phase === "Passed" || phase === "Failed")) {
        // A first stage's plans go to memory before its summary, whether its tasks' settling got there first or not.
        if ((plan.stage.needs ?? []).length === 0) for (const task of set.tasks) if (task.spec.stage === name) await this.rememberPlanOf(task.metadata.name, name);
        await rememberStageSummary(this.world(), name, phase, current.context.reason);
      }
    }
    return JSON.stringify(current.value) !== JSON.stringify(start.value);
  }

  private stageFacts(set: ManifestSet, plan: StagePlan, judgement: ApprovalJudgement | null): StageFacts {
    const phaseOf = (stage: string): string => stagePhaseOf(this.stages.get(stage)?.value ?? { Active: "Pending" });
    // A removed task whose cancellation has not finished still works: the stage cannot pass over it.
    const cancelling = [...this.cancelling].filter(([, stage]) => stage === plan.stage.name).map(() => "Cancelling");
    const own = set.tasks.filter((t) => t.spec.stage === plan.stage.name).map((t) => this.tasks.get(t.metadata.name)?.getSnapshot());
    const tasks = [...own.map((s) => String(s?.value ?? "Pending")), ...cancelling];
    const retrying = own.filter((s) => s !== undefined && (s.context.round ?? 0) > 0 && !SETTLED_PHASES.has(String(s.value))).length;
    const approval = judgement === null ? "pending" : judgement.reason === "Granted" ? "granted" : judgement.reason === "Rejected" ? "rejected" : "pending";
    const paused = set.project.spec.paused === true || this.pauses.has("project") || this.pauses.has(`stage/${plan.stage.name}`);
    return {
      needsPassed: (plan.stage.needs ?? []).every((n) => phaseOf(n) === "Passed"),
      feasible: plan.report.feasible,
      approvalRequired: plan.approvalRequired,
      approval,
      planDigest: plan.digest,
      tasks: { total: tasks.length, merged: tasks.filter((p) => p === "Merged").length, failed: tasks.filter((p) => p === "Failed").length, pastWork: tasks.filter((p) => PAST_WORK.has(p)).length, retrying },
      paused,
    };
  }

  /**
   * One round of session health (seed skill 12): a crashed or stuck agent is
   * restarted per its agent's policy in the same worktree; prompts it never
   * acknowledged are delivered again, done ones never are.
   */
  async superviseSessions(): Promise<void> {
    if (this.tracker.current.applied === null) return;
    const w = this.world();
    let resynced = false;
    if (Date.now() - this.lastLookResync >= LOOK_RESYNC_MS) {
      // Settled screens are checked against tmux's own record of output, all in one command, instead of a
      // capture each every 30 s; a screen that printed unnotified is looked at in full by the checks below.
      this.lastLookResync = Date.now();
      const resync = await resyncSettledLooks(this.sessionContext(w)).catch((error: unknown) => this.options.logger.warn({ err: error }, "could not read tmux's record of pane output"));
      resynced = resync == null || resync.forgotten > 0;
    }
    // A round after a quiet one, with no ledger write and no look since, would find the same: skipped.
    const stamp = await dialectOf(w.db).changeStamp(w.db).catch(() => null);
    if (!resynced && !this.lookedSinceRound && stamp !== null && this.quietRound?.stamp === stamp && Date.now() - this.quietRound.at < QUIET_ROUND_MAX_MS) return;
    this.lookedSinceRound = false;
    await releaseOrphanedReservations(w.db, this.actor).catch(() => 0);
    const sessions = await listSessions(w.db).catch(() => []);
    let quiet = true;
    for (const session of sessions) {
      const look = await this.superviseSession(w, session);
      if (look !== null && look.quiet !== true) quiet = false;
    }
    this.quietRound = quiet && stamp !== null ? { stamp, at: Date.now() } : null;
  }

  /** The last health round in which every session was quiet, and the ledger's change stamp before it. */
  private quietRound: { readonly stamp: string; readonly at: number } | null = null;
  /** A look (a pane printed or died) since the last health round. */
  private lookedSinceRound = false;

  /**
   * A session's pane printed or died (a control-mode notification): look at
   * it now rather than at the next health round, so its status (and a crash)
   * is in the ledger within milliseconds of the output.
   */
  async observeActivity(socket: string, tmuxName: string): Promise<LookResult | null> {
    // Output before the first manifest set is applied (a start-up pass on a loaded machine takes seconds) is looked
    // at again shortly: a person's command typed meanwhile is still seen running. Not forever: a set that never
    // applies (invalid from the start) must not keep a timer going.
    if (this.tracker.current.applied === null) return Date.now() - this.startedAt < NOT_READY_LOOK_FOR_MS ? { againInMs: NOT_READY_LOOK_AGAIN_MS, busy: false } : null;
    this.lookedSinceRound = true;
    const w = this.world();
    const matches = (s: SessionRecord | undefined): s is SessionRecord => s !== undefined && s.tmuxSocket === socket && s.tmuxName === tmuxName && s.closedAt === null;
    // A session's tmux name is its id (create-session): one row by key, the list only for anything else.
    const byId = await getSession(w.db, tmuxName).catch(() => undefined);
    const session = matches(byId) ? byId : (await listSessions(w.db).catch(() => [])).find(matches);
    return session === undefined ? null : this.superviseSession(w, session);
  }

  /** Checks one session (recovering a crashed or stuck one), one check per session at a time. */
  private superviseSession(w: World, listed: SessionRecord): Promise<LookResult | null> {
    const previous = this.supervising.get(listed.id);
    // A check queued behind another reads the row again: the listed one may be out of date by then.
    const next = previous === undefined ? this.checkAndRecover(w, listed) : previous.then(async () => {
      const fresh = await getSession(w.db, listed.id).catch(() => undefined);
      return fresh === undefined ? null : this.checkAndRecover(w, fresh);
    });
    const tracked = next.finally(() => {
      if (this.supervising.get(listed.id) === tracked) this.supervising.delete(listed.id);
    });
    this.supervising.set(listed.id, tracked);
    return tracked;
  }

  private readonly supervising = new Map<string, Promise<LookResult | null>>();
  /** The plan being written per task: a task's settling and its stage's end never write it side by side (twice). */
  private readonly planWrites = new Map<string, Promise<void>>();

  /** Writes the task's plan to memory once (nothing while it has no merge); joins a write already under way. */
  private rememberPlanOf(task: string, stage: string): Promise<void> {
    const running = this.planWrites.get(task);
    if (running !== undefined) return running;
    const write = rememberPlan(this.world(), task, stage).finally(() => this.planWrites.delete(task));
    this.planWrites.set(task, write);
    return write;
  }
  private lastLookResync = 0;

  /** What the look found: whether the agent works, and when to look again (a screen whose status needs it to stay still). */
  private async checkAndRecover(w: World, session: SessionRecord): Promise<LookResult | null> {
    const ctx = this.sessionContext(w);
    // A paused task's session belongs to the person who took it over: hands off.
    const task = w.set.tasks.find((t) => t.metadata.name === session.task);
    if (task !== undefined && w.isPaused(task)) return null;
    try {
      const health = await checkSessionHealth(ctx, session.id, session);
      if (sessionHasTag(health.state, "recoverable")) {
        const outcome = await recoverSession(ctx, session.id);
        this.options.logger.warn({ session: session.id, state: health.state, reason: health.reason, outcome }, `session ${session.id} ${health.state}: ${outcome}`);
      }
      return { againInMs: health.lookAgainInMs ?? null, busy: health.status === "running", quiet: health.quiet === true };
    } catch (error) {
      this.options.logger.error({ err: error, session: session.id }, "health check failed");
      return { againInMs: null, busy: false, quiet: false };
    }
  }

  private sessionContext(w: World) {
    return { timing: CONTROLLER_SESSION_TIMING, db: w.db, tmux: w.tmux, ...(w.activity === undefined ? {} : { activity: w.activity }), ...(w.hosts === undefined ? {} : { hosts: w.hosts }), limits: w.limits, actor: this.actor, agents: w.agents, controlDir: w.dir };
  }

  /** A settled task keeps no session open: its slots go back to the others. */
  private async closeTaskSessions(task: string, reason: string): Promise<void> {
    const w = this.world();
    const ctx = this.sessionContext(w);
    for (const session of await listSessions(w.db)) {
      if (session.task === task && session.closedAt === null) await closeSession(ctx, session.id, reason).catch(() => undefined);
    }
  }

  /** Removed tasks whose cancellation failed (name -> stage); retried on every pass. */
  private readonly cancelling = new Map<string, string>();

  /** Failed tasks with a retry request newer than their round start a new round (fresh actor, counters reset). */
  private async answerRetries(set: ManifestSet): Promise<boolean> {
    const failed = set.tasks.map((t) => t.metadata.name).filter((name) => this.tasks.get(name)?.getSnapshot().value === "Failed");
    if (failed.length === 0) return false;
    const requests = await pendingRetries(this.options.db, failed.map((task) => ({ task, answered: this.tasks.get(task)!.getSnapshot().context.retryOf ?? 0 })));
    for (const request of requests.values()) {
      const round = (this.tasks.get(request.task)!.getSnapshot().context.round ?? 0) + 1;
      await this.startRound(request.task, { round, retryOf: request.id }, { action: "TaskRetried", payload: { round, request: request.id, requestedBy: request.actor } });
      this.options.logger.info({ task: request.task, round, requestedBy: request.actor }, `task ${request.task}: retry round ${round} requested by ${request.actor}`);
    }
    return requests.size > 0;
  }

  /** Merged or Failed tasks whose spec changed since their round began run again in a new round; their stage reopens under the new plan digest. */
  private async rerunChangedTasks(set: ManifestSet): Promise<boolean> {
    const changed = changedSettledTasks(set, (name) => this.tasks.get(name)?.getSnapshot());
    for (const c of changed) {
      const round = c.round + 1;
      await this.startRound(c.task, { round, retryOf: c.retryOf }, { action: "TaskChanged", payload: { round, from: c.phase, specDigest: { before: c.from, now: c.to } } });
      this.options.logger.info({ task: c.task, round, from: c.phase }, `task ${c.task}: its spec changed since it was ${c.phase}; round ${round} runs it again`);
    }
    return changed.length > 0;
  }

  /** Replaces a settled task's actor with a fresh one for a new round (counters reset), ledgering why. */
  private async startRound(name: string, round: { readonly round: number; readonly retryOf: number | null }, event: { readonly action: string; readonly payload: Record<string, unknown> }): Promise<void> {
    this.tasks.get(name)?.stop();
    this.tasks.delete(name);
    this.restored.delete(name);
    await this.flush();
    await appendEvent(this.options.db, { actor: this.actor, action: event.action, subject: `task/${name}`, payload: event.payload });
    this.startTask(name, null, round);
  }

  /** Tasks removed from the manifests while they worked are Cancelled; until that is done they hold their stage open. */
  private async cancelRemovedTasks(world: World): Promise<boolean> {
    const kept = new Set(world.set.tasks.map((t) => t.metadata.name));
    const phaseOf = (name: string): string => String(this.tasks.get(name)?.getSnapshot().value ?? (this.restored.get(name) as { value?: unknown } | undefined)?.value ?? "Pending");
    const removed = [...new Set([...this.tasks.keys(), ...this.restored.keys()])].filter((name) => !kept.has(name) && !SETTLED_PHASES.has(phaseOf(name)));
    for (const name of removed) {
      const row = await this.options.db.selectFrom("tasks").select(["stage", "role"]).where("name", "=", name).executeTakeFirst();
      const phase = phaseOf(name);
      this.tasks.get(name)?.stop();
      await this.flush();
      try {
        const done = await cancelRemovedTask(world, { name, stage: row?.stage ?? "?", role: row?.role ?? "?", phase });
        this.options.logger.warn({ ...done }, `task ${name}: removed from the manifests while ${phase}; Cancelled`);
        this.tasks.delete(name);
        this.restored.delete(name);
        this.cancelling.delete(name);
      } catch (error) {
        this.cancelling.set(name, row?.stage ?? "?");
        this.options.logger.error({ err: error, task: name }, `task ${name}: cancellation failed; retrying on the next pass`);
      }
    }
    return removed.length > 0;
  }

  /** Stops the task actors (their effects see the abort signal); tmux sessions keep running. */
  async stop(): Promise<void> {
    for (const actor of this.tasks.values()) actor.stop();
    await this.flush();
  }
}
