import type { Generated, Insertable, Selectable, Updateable } from "kysely";

export interface StagesTable {
  name: string;
  phase: string;
  generation: string | null;
  plan_digest: string | null;
  started_at: string | null;
  finished_at: string | null;
  updated_at: string;
  /** Persisted xstate snapshot (JSON), restored after a restart. */
  snapshot: string | null;
}

export interface TasksTable {
  name: string;
  stage: string;
  role: string;
  phase: string;
  gate_attempts: Generated<number>;
  resolve_attempts: Generated<number>;
  updated_at: string;
  /** Persisted xstate snapshot (JSON), restored after a restart. */
  snapshot: Generated<string | null>;
  /** Writes of the snapshot so far: a writer saves only over the revision it loaded. */
  revision: Generated<number>;
}

/** A pause set by a person (`gaffer pause`): `project`, `stage/<name>` or `task/<name>`. */
export interface PausesTable {
  target: string;
  actor: string;
  reason: string | null;
  paused_at: string;
}

export interface ApprovalsTable {
  id: Generated<number>;
  stage: string;
  request_id: string;
  decision: string;
  author_email: string | null;
  commit_sha: string | null;
  comment: string | null;
  /** Granted | Rejected | Stale | Unauthorized | Uncommitted | SelfApproval | Unsigned */
  verdict: string;
  reason: string | null;
  recorded_at: string;
}

export interface GatesTable {
  id: Generated<number>;
  task: string;
  attempt: number;
  /** command | review */
  kind: string;
  command: string;
  /** running | passed | failed */
  state: string;
  exit_code: number | null;
  duration_ms: number | null;
  output_tail: string | null;
  started_at: string;
  finished_at: string | null;
}

export interface MergesTable {
  id: Generated<number>;
  task: string;
  branch: string;
  target: string;
  strategy: string;
  /** queued | running | merged | conflict | refused | failed */
  state: string;
  head_sha: string | null;
  merge_sha: string | null;
  conflicted_files: string | null;
  reason: string | null;
  requested_at: string;
  finished_at: string | null;
}

export interface MemoryTable {
  id: Generated<number>;
  /** plan | decision | review | summary | note */
  kind: string;
  stage: string | null;
  task: string | null;
  title: string;
  path: string;
  author: string;
  created_at: string;
}

/** Controller effects, ledgered before they run so a restart never repeats a done one. */
export interface EffectsTable {
  key: string;
  kind: string;
  /** issued | running | done | failed */
  state: string;
  result: string | null;
  issued_at: string;
  updated_at: string;
}

export type StageRow = Selectable<StagesTable>;
export type TaskRow = Selectable<TasksTable>;
export type ApprovalRow = Selectable<ApprovalsTable>;
export type GateRow = Selectable<GatesTable>;
export type MergeRow = Selectable<MergesTable>;
export type MemoryRow = Selectable<MemoryTable>;
export type EffectRow = Selectable<EffectsTable>;
export type NewGateRow = Insertable<GatesTable>;
export type NewMergeRow = Insertable<MergesTable>;
export type NewMemoryRow = Insertable<MemoryTable>;
export type MergeUpdate = Updateable<MergesTable>;
