import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { copyRepoTemplate, git, gitRepo, initRepo } from "./git-repo.js";
import { execFileSync } from "node:child_process";
import { onTestFinished } from "vitest";
import { tempDir } from "./temp.js";

export const APPROVER = "alice@example.com";
export const MANIFEST_AUTHOR = "author@example.com";

export interface FlowFixture {
  /** The control repo (manifests/, status/, memory/). */
  readonly dir: string;
  /** The target repo the agents work on (`spec.repo: ../target`). */
  readonly target: string;
  /** Where task worktrees go: the default worktree root, beside the target repo. */
  readonly worktrees: string;
  readonly socket: string;
}

export interface FlowOptions {
  /** Extra YAML appended under the Project's spec. */
  readonly projectSpec?: string;
  /** Build tasks: name -> scripted-agent prompt. */
  readonly buildTasks?: Readonly<Record<string, string>>;
  /** Gate commands for the build stage, as YAML flow lists. */
  readonly gate?: string;
  readonly capacity?: number;
  /** Environment of the scripted agent (e.g. GAFFER_SCRIPTED_LOG to log every prompt it receives). */
  readonly agentEnv?: Readonly<Record<string, string>>;
  /**
   * false: no plan stage (and no write-plan task): build is the first stage, approval still required; for tests
   * about the build's work, which then skip an agent session, a gate and a merge (~3 s).
   */
  readonly planStage?: boolean;
}

/** Commits paths in `dir` as `email`. */
export function commitAs(dir: string, email: string, message: string, ...paths: string[]): void {
  git(dir, "add", "--", ...paths);
  git(dir, "-c", `user.email=${email}`, "-c", "user.name=someone", "commit", "-q", "-m", message, "--", ...paths);
}

/**
 * A control repo and a target repo side by side: plan (no approval) ->
 * build (approval by alice), or build alone (`planStage: false`), the
 * scripted agent, one tmux socket per test.
 */
export function flowFixture(options: FlowOptions = {}): FlowFixture {
  const root = tempDir("gaffer-flow-");
  const target = join(root, "target");
  const dir = join(root, "control");
  copyRepoTemplate(target, "flow-fixture target", (repo) => {
    initRepo(repo);
    writeFileSync(join(repo, "README.md"), "# target\n");
    writeFileSync(join(repo, "app.txt"), "version = 1\n");
    git(repo, "add", ".");
    git(repo, "commit", "-q", "-m", "chore: initial commit");
  });
  copyRepoTemplate(dir, "flow-fixture control", (repo) => initRepo(repo));
  const socket = `gaffer-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  onTestFinished(() => {
    try {
      execFileSync("tmux", ["-L", socket, "kill-server"], { stdio: "ignore", env: { ...process.env, TMUX: "" } });
    } catch {
      // no server was started
    }
  });
  mkdirSync(join(dir, "manifests"));
  writeFileSync(join(dir, ".gitignore"), ".gaffer/\n");
  writeFileSync(join(dir, "manifests/project.yaml"), `apiVersion: gaffer/v1
kind: Project
metadata:
  name: flow
spec:
  repo: ../target
  tmuxSocket: ${socket}
  capacity:
    global: ${options.capacity ?? 3}
  policy:
    approvers: [${APPROVER}]
${options.projectSpec ?? ""}`);
  writeFileSync(join(dir, "manifests/agents.yaml"), `apiVersion: gaffer/v1
kind: AgentPool
metadata:
  name: pool
spec:
  agents:
    - name: scripted
      profile: scripted
      capacity: ${options.capacity ?? 3}
      idleAfterMs: 200
${options.agentEnv === undefined ? "" : `      env: ${JSON.stringify(options.agentEnv)}\n`}`);
  const withPlan = options.planStage ?? true;
  const plan = `    - name: plan
      approval: none
      roles:
        - name: planner
          allowedAgents: [scripted]
      gate:
        commands: [[test, -f, PLAN.md]]
`;
  writeFileSync(join(dir, "manifests/playbook.yaml"), `apiVersion: gaffer/v1
kind: Playbook
metadata:
  name: flow
spec:
  stages:
${withPlan ? plan : ""}    - name: build
${withPlan ? "      needs: [plan]\n" : "      approval: required\n"}      roles:
        - name: builder
          count: ${options.capacity ?? 3}
          allowedAgents: [scripted]
      gate:
        commands: ${options.gate ?? "[[git, diff, --check, HEAD~1]]"}
`);
  const tasks = options.buildTasks ?? { "add-a": "write a.txt <<<alpha\ncommit feat(add-a): add a" };
  const docs = [
    ...(withPlan ? [taskDoc("write-plan", "plan", "planner", "write PLAN.md <<<plan: build the tasks\ncommit docs(write-plan): plan")] : []),
    ...Object.entries(tasks).map(([name, prompt]) => taskDoc(name, "build", "builder", prompt)),
  ];
  writeFileSync(join(dir, "manifests/tasks.yaml"), docs.join("---\n"));
  commitAs(dir, MANIFEST_AUTHOR, "feat: manifests", "manifests", ".gitignore");
  return { dir, target, worktrees: join(root, "target.gaffer-worktrees"), socket };
}

function taskDoc(name: string, stage: string, role: string, prompt: string): string {
  const body = prompt.split("\n").map((l) => `    ${l}`).join("\n");
  return `apiVersion: gaffer/v1\nkind: Task\nmetadata:\n  name: ${name}\nspec:\n  stage: ${stage}\n  role: ${role}\n  prompt: |\n${body}\n`;
}

export { gitRepo };
