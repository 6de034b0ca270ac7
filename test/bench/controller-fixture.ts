// Control dirs for the controller bench: a git control repo and a target repo side by side.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface BenchControlDir {
  /** The control repo (manifests/, status/, .gaffer/). */
  readonly dir: string;
  readonly target: string;
  readonly socket: string;
}

function git(cwd: string, ...args: string[]): void {
  execFileSync("git", args, { cwd, stdio: "ignore" });
}

function initRepo(dir: string): void {
  mkdirSync(dir, { recursive: true });
  git(dir, "init", "-q", "-b", "main");
  for (const [k, v] of [["user.email", "bench@example.com"], ["user.name", "Bench"], ["gc.auto", "0"], ["commit.gpgsign", "false"]] as const) git(dir, "config", k, v);
}

/** One Task document; `prompt` lines are indented into a literal block. */
export function taskDoc(name: string, prompt: string, paused = false): string {
  const body = prompt.split("\n").map((l) => `    ${l}`).join("\n");
  return `apiVersion: gaffer/v1\nkind: Task\nmetadata:\n  name: ${name}\nspec:\n  stage: build\n  role: builder\n${paused ? "  paused: true\n" : ""}  prompt: |\n${body}\n`;
}

/**
 * Project + pool + one `build` stage (no needs, approval: none, so it runs
 * at once), committed like a real control repo; `tasks` go to manifests/tasks.yaml.
 */
export function benchControlDir(root: string, options: { readonly capacity: number; readonly tasks: readonly string[]; readonly extraStages?: string; readonly approval?: "none" | "required" }): BenchControlDir {
  const target = join(root, "target");
  const dir = join(root, "control");
  initRepo(target);
  writeFileSync(join(target, "README.md"), "# target\n");
  git(target, "add", ".");
  git(target, "commit", "-q", "-m", "chore: initial commit");
  initRepo(dir);
  const socket = `gaffer-bench-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  mkdirSync(join(dir, "manifests"));
  writeFileSync(join(dir, ".gitignore"), ".gaffer/\n");
  writeFileSync(
    join(dir, "manifests/project.yaml"),
    `apiVersion: gaffer/v1\nkind: Project\nmetadata:\n  name: bench\nspec:\n  repo: ../target\n  tmuxSocket: ${socket}\n  capacity:\n    global: ${options.capacity}\n  policy:\n    approvers: [alice@example.com]\n`,
  );
  writeFileSync(
    join(dir, "manifests/agents.yaml"),
    `apiVersion: gaffer/v1\nkind: AgentPool\nmetadata:\n  name: pool\nspec:\n  agents:\n    - name: scripted\n      profile: scripted\n      capacity: ${options.capacity}\n      idleAfterMs: 200\n`,
  );
  writeFileSync(
    join(dir, "manifests/playbook.yaml"),
    `apiVersion: gaffer/v1\nkind: Playbook\nmetadata:\n  name: bench\nspec:\n  stages:\n    - name: build\n      approval: ${options.approval ?? "none"}\n      roles:\n        - name: builder\n          count: ${options.capacity}\n          allowedAgents: [scripted]\n      gate:\n        commands: [["true"]]\n${options.extraStages ?? ""}`,
  );
  if (options.tasks.length > 0) writeFileSync(join(dir, "manifests/tasks.yaml"), options.tasks.join("---\n"));
  git(dir, "add", ".");
  git(dir, "commit", "-q", "-m", "feat: manifests");
  return { dir, target, socket };
}
