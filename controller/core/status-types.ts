/**
 * The shapes of the status files (`status/stages/*.yaml`, `status/tasks/*.yaml`,
 * `status/controller.yaml`), DESIGN.md section 4. The controller owns every
 * key except the top-level `approvals:` list of a stage file, which belongs to
 * people and is preserved byte-for-byte.
 */

export type ConditionStatus = "True" | "False" | "Unknown";

/** Kubernetes `metav1.Condition` semantics. */
export interface Condition {
  /** CamelCase kind: `Valid`, `Ready`, `Reconciling`, `Stalled`, `Approved`, `GatePassed`, `Merged`. */
  readonly type: string;
  readonly status: ConditionStatus;
  /** CamelCase machine-readable reason (`Granted`, `Stale`...). */
  readonly reason: string;
  /** What happened and what to do, for people. */
  readonly message: string;
  /** ISO time the `status` last changed (not the reason or message). */
  readonly lastTransitionTime: string;
  /** The manifest generation this condition was computed from. */
  readonly observedGeneration: string;
}

/** What a stage needs approved: the id people write in `approvals:` entries. */
export interface ApprovalRequest {
  /** `<stage>-<planDigest[:12]>`. */
  readonly id: string;
  /** Full sha256 of the proposal (see core/plan-digest.ts). */
  readonly planDigest: string;
  readonly requiredApprovals: number;
}

export interface ProposedAssignment {
  readonly agent: string;
  readonly model: string | null;
  readonly count: number;
}

export interface ProposedRole {
  readonly role: string;
  readonly requested: number;
  readonly allocated: number;
  readonly assignments: readonly ProposedAssignment[];
  readonly tasks: readonly string[];
}

/** One worktree the stage will create. */
export interface WorktreePlanEntry {
  readonly task: string;
  readonly role: string;
  readonly branch: string;
  /** Branch or commit the worktree starts from. */
  readonly base: string;
  /** Worktree path, relative to the control dir. */
  readonly path: string;
}

/** The plan a person approves: allocation and worktrees. */
export interface StageProposal {
  readonly allocation: readonly ProposedRole[];
  readonly worktrees: readonly WorktreePlanEntry[];
}

interface StatusBase {
  /** Hash of the manifest set this status reflects. */
  readonly observedGeneration: string | null;
  readonly phase: string;
  readonly conditions: readonly Condition[];
  /** Free-form details (allocation, worktree, branch, session, gate results, merge commit, timings). */
  readonly details?: Readonly<Record<string, unknown>>;
}

export interface StageStatus extends StatusBase {
  readonly proposal?: StageProposal;
  readonly approvalRequest?: ApprovalRequest;
}

export type TaskStatus = StatusBase;

/** A manifest problem as written into controller.yaml. */
export interface ManifestErrorEntry {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

export interface ControllerStatus extends StatusBase {
  /** Control-repo commit of the manifests the controller last tried to apply. */
  readonly lastAttemptedRevision: string | null;
  /** Control-repo commit of the manifests the controller is reconciling toward. */
  readonly lastAppliedRevision: string | null;
  /** Whether the applied manifests differ from HEAD. */
  readonly sourceDirty: boolean;
  /** Problems of the last rejected manifest set (empty when it was applied). */
  readonly manifestErrors: readonly ManifestErrorEntry[];
}

export type ApprovalDecision = "approved" | "rejected";

/** One entry of a stage file's person-owned `approvals:` list, as read from the file. */
export interface ApprovalEntry {
  /** 0-based position in the list. */
  readonly index: number;
  readonly requestId: string;
  readonly decision: ApprovalDecision;
  readonly comment: string | null;
  /** 1-based lines of the file the entry occupies (first..last). */
  readonly lines: readonly [number, number];
}

/** An entry that could not be read (wrong shape); never counts. */
export interface MalformedApprovalEntry {
  readonly index: number;
  readonly lines: readonly [number, number];
  readonly problem: string;
}
