import type { AgentSpec, ManifestSet, MergeStrategy, ProjectManifest, StageSpec, TaskManifest, WorktreeRetention } from "./manifest-types.js";
import { renderBranch } from "./git-ref.js";
import { defaultWorktreeRoot } from "./worktree-root.js";

/** Conventional commits: `type(scope)!: subject`. */
export const DEFAULT_COMMIT_FORMAT = "^(feat|fix|docs|style|refactor|perf|test|build|ci|chore|revert)(\\([a-z0-9-]+\\))?!?: .+";
export const DEFAULT_SECRETS_DENYLIST: readonly string[] = [".env", ".env.*", "*.pem", "*.key", "id_rsa", "id_rsa*", "id_ed25519*", "*.p12"];

/** The Project with every default applied: what the rest of gaffer reads. */
export interface ProjectConfig {
  readonly name: string;
  readonly repo: string;
  readonly baseBranch: string;
  readonly integrationBranch: string;
  /** Where task worktrees live, relative to the control dir: `spec.worktreeRoot`, else beside the target repo (see defaultWorktreeRoot). */
  readonly worktreeRoot: string;
  readonly tmuxSocket: string;
  readonly paused: boolean;
  readonly capacity: {
    readonly global: number;
    readonly perAgent: Readonly<Record<string, number>>;
    readonly perRole: Readonly<Record<string, number>>;
  };
  readonly policy: {
    readonly branchPattern: string;
    readonly commitFormat: string;
    readonly protectedBranches: readonly string[];
    readonly mergeStrategy: MergeStrategy;
    readonly approvers: readonly string[];
    readonly requiredApprovals: number;
    readonly preventSelfApproval: boolean;
    readonly requireSignedApprovals: boolean;
    readonly allowedSignersFile: string | null;
    readonly maxGateAttempts: number;
    readonly maxResolveAttempts: number;
    readonly worktreeRetention: WorktreeRetention;
    readonly secretsDenylist: readonly string[];
    readonly requireCommittedManifests: boolean;
    /** Author of commits made for agent sessions; `{agent}` and `{session}` are replaced. */
    readonly agentAuthor: { readonly name: string; readonly email: string };
  };
}

/** Who commits for an agent session unless policy.agentAuthor says otherwise. */
export const DEFAULT_AGENT_AUTHOR = { name: "gaffer agent", email: "agent+{session}@gaffer.invalid" } as const;

/**
 * The Project with its defaults, for the control dir `controlDir` (the
 * default worktree root is named after the target repo's directory).
 */
export function resolveProject(project: ProjectManifest, controlDir: string): ProjectConfig {
  const spec = project.spec;
  const policy = spec.policy ?? {};
  const baseBranch = spec.baseBranch ?? "main";
  return {
    name: project.metadata.name,
    repo: spec.repo,
    baseBranch,
    integrationBranch: spec.integrationBranch ?? baseBranch,
    worktreeRoot: spec.worktreeRoot ?? defaultWorktreeRoot(controlDir, spec.repo),
    tmuxSocket: spec.tmuxSocket ?? "gaffer",
    paused: spec.paused ?? false,
    capacity: {
      global: spec.capacity?.global ?? 4,
      perAgent: spec.capacity?.perAgent ?? {},
      perRole: spec.capacity?.perRole ?? {},
    },
    policy: {
      branchPattern: policy.branchPattern ?? "gaffer/{stage}/{task}",
      commitFormat: policy.commitFormat ?? DEFAULT_COMMIT_FORMAT,
      protectedBranches: policy.protectedBranches ?? [baseBranch],
      mergeStrategy: policy.mergeStrategy ?? "merge",
      approvers: policy.approvers ?? [],
      requiredApprovals: policy.requiredApprovals ?? 1,
      preventSelfApproval: policy.preventSelfApproval ?? true,
      requireSignedApprovals: policy.requireSignedApprovals ?? false,
      allowedSignersFile: policy.allowedSignersFile ?? null,
      maxGateAttempts: policy.maxGateAttempts ?? 3,
      maxResolveAttempts: policy.maxResolveAttempts ?? 2,
      worktreeRetention: policy.worktreeRetention ?? "remove-after-merge",
      secretsDenylist: policy.secretsDenylist ?? DEFAULT_SECRETS_DENYLIST,
      requireCommittedManifests: policy.requireCommittedManifests ?? false,
      agentAuthor: policy.agentAuthor ?? DEFAULT_AGENT_AUTHOR,
    },
  };
}

/** Whether a stage needs a committed approval before it starts (always, when it has `needs`). */
export function stageNeedsApproval(stage: StageSpec): boolean {
  return (stage.needs ?? []).length > 0 || stage.approval === "required";
}

export function findStage(set: ManifestSet, name: string): StageSpec | undefined {
  for (const playbook of set.playbooks) {
    const stage = playbook.spec.stages.find((s) => s.name === name);
    if (stage !== undefined) return stage;
  }
  return undefined;
}

export function allStages(set: ManifestSet): readonly StageSpec[] {
  return set.playbooks.flatMap((p) => p.spec.stages);
}

export function allAgents(set: ManifestSet): readonly AgentSpec[] {
  return set.agentPools.flatMap((p) => p.spec.agents);
}

export function findTask(set: ManifestSet, name: string): TaskManifest | undefined {
  return set.tasks.find((t) => t.metadata.name === name);
}

/** The branch a task works on: its own `branch`, else the project's pattern. */
export function taskBranch(config: ProjectConfig, task: TaskManifest): string {
  return task.spec.branch ?? renderBranch(config.policy.branchPattern, { stage: task.spec.stage, task: task.metadata.name });
}
