/**
 * Types of the four manifest kinds, as written by people (optional fields
 * optional). `test/core/manifest-types.test.ts` keeps them in step with
 * `schemas/*.schema.json`.
 */
import type { ModelPricing } from "./token-usage.js";

export const API_VERSION = "gaffer/v1";
export const MANIFEST_KINDS = ["Project", "AgentPool", "Playbook", "Task"] as const;
export type ManifestKind = (typeof MANIFEST_KINDS)[number];

export interface Metadata {
  /** DNS-label name, unique per kind. */
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>>;
}

export interface CapacitySpec {
  readonly global?: number;
  readonly perAgent?: Readonly<Record<string, number>>;
  readonly perRole?: Readonly<Record<string, number>>;
}

export type MergeStrategy = "merge" | "squash" | "rebase";
export type WorktreeRetention = "remove-after-merge" | "keep";

export interface PolicySpec {
  readonly branchPattern?: string;
  readonly commitFormat?: string;
  readonly protectedBranches?: readonly string[];
  readonly mergeStrategy?: MergeStrategy;
  readonly approvers?: readonly string[];
  readonly requiredApprovals?: number;
  readonly preventSelfApproval?: boolean;
  readonly requireSignedApprovals?: boolean;
  readonly allowedSignersFile?: string;
  readonly maxGateAttempts?: number;
  readonly maxResolveAttempts?: number;
  readonly worktreeRetention?: WorktreeRetention;
  readonly secretsDenylist?: readonly string[];
  readonly requireCommittedManifests?: boolean;
  /** Author of commits made for agent sessions (`{agent}`, `{session}` templates). */
  readonly agentAuthor?: { readonly name: string; readonly email: string };
}

export interface ProjectSpec {
  readonly repo: string;
  readonly baseBranch?: string;
  readonly integrationBranch?: string;
  readonly worktreeRoot?: string;
  readonly tmuxSocket?: string;
  /** A PostgreSQL ledger instead of `.gaffer/ledger.sqlite` (no password: that comes from the environment). */
  readonly ledger?: { readonly url?: string };
  readonly paused?: boolean;
  readonly capacity?: CapacitySpec;
  readonly policy?: PolicySpec;
}

export const AGENT_PROFILE_NAMES = ["claude", "codex", "gemini", "aider", "opencode", "scripted"] as const;
export type AgentProfileName = (typeof AGENT_PROFILE_NAMES)[number];

export interface AgentSpec {
  readonly name: string;
  readonly profile?: AgentProfileName;
  readonly command?: readonly string[];
  readonly models?: readonly string[];
  readonly capacity?: number;
  readonly env?: Readonly<Record<string, string>>;
  readonly readyPattern?: string;
  readonly busyPattern?: string;
  readonly waitingPattern?: string;
  readonly errorPattern?: string;
  readonly rateLimitPattern?: string;
  readonly idleAfterMs?: number;
  readonly stuckAfterMs?: number;
  readonly startupTimeoutMs?: number;
  readonly maxRestarts?: number;
  /** Per-model prices per million tokens (`gaffer report` cost). */
  readonly pricing?: Readonly<Record<string, ModelPricing>>;
}

/** One agent host reached over SSH (AgentPool `spec.hosts`). */
export interface HostSpec {
  readonly name: string;
  /** `user@host` or `host`. */
  readonly ssh: string;
  readonly port?: number;
  readonly identityFile?: string;
  readonly capacity?: number;
  /** Absolute directory on the host for gaffer's clone and worktrees. */
  readonly workdir: string;
}

export interface AgentPoolSpec {
  readonly agents: readonly AgentSpec[];
  /** Agent hosts; none means every agent runs on this machine. */
  readonly hosts?: readonly HostSpec[];
}

export interface GateSpec {
  readonly commands?: readonly (readonly string[])[];
  readonly review?: "required" | "none";
  readonly timeoutMs?: number;
  /** No evidence needed, on purpose: the reason why (the task merges without a gate). */
  readonly none?: string;
}

export interface RoleSpec {
  readonly name: string;
  readonly count?: number;
  readonly allowedAgents: readonly string[];
  readonly model?: string;
}

export interface StageSpec {
  readonly name: string;
  readonly needs?: readonly string[];
  readonly roles: readonly RoleSpec[];
  readonly approval?: "required" | "none";
  readonly gate?: GateSpec;
}

export interface PlaybookSpec {
  readonly stages: readonly StageSpec[];
}

export interface TaskSpec {
  readonly stage: string;
  readonly role: string;
  readonly prompt: string;
  readonly branch?: string;
  readonly dependsOn?: readonly string[];
  readonly gate?: GateSpec;
  readonly paused?: boolean;
}

interface Doc<K extends ManifestKind, S> {
  readonly apiVersion: typeof API_VERSION;
  readonly kind: K;
  readonly metadata: Metadata;
  readonly spec: S;
}

export type ProjectManifest = Doc<"Project", ProjectSpec>;
export type AgentPoolManifest = Doc<"AgentPool", AgentPoolSpec>;
export type PlaybookManifest = Doc<"Playbook", PlaybookSpec>;
export type TaskManifest = Doc<"Task", TaskSpec>;
export type Manifest = ProjectManifest | AgentPoolManifest | PlaybookManifest | TaskManifest;

/** Where a document came from, for messages that point back at the source. */
export interface SourceRef {
  /** Path relative to the control dir, e.g. `manifests/tasks.yaml`. */
  readonly file: string;
  /** Index of the document within the file (0-based). */
  readonly index: number;
}

/** A validated manifest set: exactly one project, everything else by name. */
export interface ManifestSet {
  readonly project: ProjectManifest;
  readonly agentPools: readonly AgentPoolManifest[];
  readonly playbooks: readonly PlaybookManifest[];
  readonly tasks: readonly TaskManifest[];
  /** Content hash of the whole set (the `observedGeneration` of status files). */
  readonly generation: string;
}
