/**
 * A control dir built in code: writes a Project, an AgentPool, a Playbook and
 * Tasks as `manifests/*.yaml` into a temp dir (a git repo with `.gaffer/`
 * ignored, manifests committed). By default the control dir is also the
 * target repo (`repo: .`); pass `repo` to point elsewhere.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { stringify } from "yaml";
import type { AgentSpec, GateSpec, ProjectSpec, StageSpec } from "../../controller/core/manifest-types.js";
import { defaultWorktreeRoot } from "../../controller/core/worktree-root.js";
import { git, gitRepo } from "./git-repo.js";

export interface TaskFixture {
  readonly name: string;
  /** Default: the first stage. */
  readonly stage?: string;
  /** Default: the stage's first role. */
  readonly role?: string;
  readonly prompt?: string;
  readonly branch?: string;
  readonly gate?: GateSpec;
  readonly dependsOn?: readonly string[];
}

export interface ControlDirOptions {
  /** Merged over the defaults (`repo: .`, one approver, capacity 8). */
  readonly project?: Partial<ProjectSpec> & { readonly policy?: ProjectSpec["policy"] };
  readonly projectName?: string;
  /** Default: one `scripted` agent (the bundled scripted profile). */
  readonly agents?: readonly AgentSpec[];
  /** Default: stage `build` (role `builder`, approval none, gate `true`). */
  readonly stages?: readonly StageSpec[];
  readonly tasks?: readonly TaskFixture[];
  /** Commit the manifests (default true). */
  readonly commit?: boolean;
}

export interface ControlDirFixture {
  /** The control dir (absolute). */
  readonly dir: string;
  /** The target repo (absolute). */
  readonly repo: string;
  /** Where task worktrees go (absolute): spec.worktreeRoot, else its default beside the target repo. */
  readonly worktrees: string;
  /** Rewrites the manifests with new options (same dir). */
  rewrite(options: ControlDirOptions): void;
}

const DEFAULT_STAGES: readonly StageSpec[] = [{ name: "build", approval: "none", roles: [{ name: "builder", count: 4, allowedAgents: ["scripted"] }], gate: { commands: [["true"]] } }];

function documents(options: ControlDirOptions): Record<string, unknown[]> {
  const stages = options.stages ?? DEFAULT_STAGES;
  const project = { apiVersion: "gaffer/v1", kind: "Project", metadata: { name: options.projectName ?? "test-project" }, spec: { repo: ".", capacity: { global: 8 }, ...options.project, policy: { approvers: ["approver@example.com"], ...options.project?.policy } } };
  const pool = { apiVersion: "gaffer/v1", kind: "AgentPool", metadata: { name: "default" }, spec: { agents: options.agents ?? [{ name: "scripted", profile: "scripted", capacity: 8 }] } };
  const playbook = { apiVersion: "gaffer/v1", kind: "Playbook", metadata: { name: "default" }, spec: { stages } };
  const tasks = (options.tasks ?? []).map((t) => {
    const stage = stages.find((s) => s.name === (t.stage ?? stages[0]!.name)) ?? stages[0]!;
    const spec = { stage: stage.name, role: t.role ?? stage.roles[0]!.name, prompt: t.prompt ?? `Do ${t.name}.`, ...(t.branch === undefined ? {} : { branch: t.branch }), ...(t.gate === undefined ? {} : { gate: t.gate }), ...(t.dependsOn === undefined ? {} : { dependsOn: t.dependsOn }) };
    return { apiVersion: "gaffer/v1", kind: "Task", metadata: { name: t.name }, spec };
  });
  return { "project.yaml": [project], "agents.yaml": [pool], "playbook.yaml": [playbook], "tasks.yaml": tasks };
}

function writeManifests(dir: string, options: ControlDirOptions): void {
  mkdirSync(join(dir, "manifests"), { recursive: true });
  for (const [file, docs] of Object.entries(documents(options))) {
    writeFileSync(join(dir, "manifests", file), docs.map((d) => stringify(d)).join("---\n"));
  }
  if (options.commit !== false) {
    git(dir, "add", "manifests", ".gitignore");
    git(dir, "commit", "-q", "--allow-empty", "-m", "chore: manifests");
  }
}

/** A fresh control dir (a git repo on `main`), removed when the test finishes. */
export function controlDir(options: ControlDirOptions = {}): ControlDirFixture {
  const dir = gitRepo();
  writeFileSync(join(dir, ".gitignore"), ".gaffer/\n");
  writeManifests(dir, options);
  const repo = join(dir, options.project?.repo ?? ".");
  const worktrees = resolve(dir, options.project?.worktreeRoot ?? defaultWorktreeRoot(dir, options.project?.repo ?? "."));
  return { dir, repo, worktrees, rewrite: (next) => writeManifests(dir, next) };
}
