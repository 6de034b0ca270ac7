/** Listing verbs: what a client finds after a reconnect (sessions, tasks, stages), read from the ledger and the applied manifests. */
import { listSessions as listSessionRecords, type SessionRecord } from "../../state/sessions.repository.js";
import type { ControlDir } from "./control-dir.js";
import { observeSessionsOnce } from "./session-observation.js";

/** One task as the manifests declare it and the controller last recorded it. */
export interface TaskView {
  readonly name: string;
  readonly stage: string;
  readonly role: string;
  /** The controller's recorded phase, null before it first saw the task. */
  readonly phase: string | null;
  /** The task's active worktree, null when it has none. */
  readonly worktree: string | null;
  readonly branch: string | null;
}

/** One stage of the Playbook and its recorded phase. */
export interface StageView {
  readonly name: string;
  readonly needs: readonly string[];
  readonly phase: string | null;
  readonly tasks: readonly string[];
}

/** Open sessions (with `all`, closed and failed ones too), oldest first. */
export async function listSessions(ctx: ControlDir, options: { readonly all?: boolean; readonly task?: string } = {}): Promise<SessionRecord[]> {
  await observeSessionsOnce(ctx);
  const rows = await listSessionRecords(await ctx.openLedger(), { includeClosed: options.all === true });
  return options.task === undefined ? rows : rows.filter((s) => s.task === options.task);
}

/** The applied manifests' tasks with their recorded phase and worktree. */
export async function listTasks(ctx: ControlDir, options: { readonly stage?: string } = {}): Promise<TaskView[]> {
  const set = await ctx.loadManifests();
  const db = await ctx.openLedger();
  const phases = new Map((await db.selectFrom("tasks").select(["name", "phase"]).execute()).map((r) => [r.name, r.phase]));
  const worktrees = new Map((await db.selectFrom("worktrees").select(["task", "path", "branch"]).where("state", "=", "active").execute()).map((r) => [r.task, r]));
  return set.tasks
    .filter((t) => options.stage === undefined || t.spec.stage === options.stage)
    .map((t) => {
      const wt = worktrees.get(t.metadata.name);
      return { name: t.metadata.name, stage: t.spec.stage, role: t.spec.role, phase: phases.get(t.metadata.name) ?? null, worktree: wt?.path ?? null, branch: wt?.branch ?? null };
    });
}

/** The Playbook stages in manifest order with their recorded phase. */
export async function listStages(ctx: ControlDir): Promise<StageView[]> {
  const set = await ctx.loadManifests();
  const rows = await (await ctx.openLedger()).selectFrom("stages").select(["name", "phase"]).execute();
  const phases = new Map(rows.map((r) => [r.name, r.phase]));
  return set.playbooks.flatMap((p) => p.spec.stages).map((s) => ({ name: s.name, needs: s.needs ?? [], phase: phases.get(s.name) ?? null, tasks: set.tasks.filter((t) => t.spec.stage === s.name).map((t) => t.metadata.name) }));
}
