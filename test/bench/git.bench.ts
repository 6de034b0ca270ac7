/**
 * Git-layer benchmark: gaffer's worktree provisioning (50 tasks) and the
 * whole create-commit-merge path (20 branches), each against the bare git
 * commands doing the same work in the same run, on identical fresh repos.
 * Target: ratio <= 1.25. Both sides start git the same way (the child runner
 * of gaffer's git adapter, through its spawn helpers) and the gate's `true`
 * the same way (execa, as the gate runner does), so the ratio is gaffer's own
 * cost, not a difference in how processes are started.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { execa } from "execa";
import { runChild } from "../../controller/adapters/child-run.js";
import { GitCli } from "../../controller/adapters/git.js";
import type { ManifestSet, TaskManifest } from "../../controller/core/manifest-types.js";
import { resolveProject } from "../../controller/core/project-config.js";
import { commitChanges } from "../../controller/workspace/commit.js";
import type { WorkspaceContext } from "../../controller/workspace/context.js";
import { processMergeQueue, requestMerge } from "../../controller/workspace/merge-queue.js";
import { createWorktrees } from "../../controller/workspace/worktrees.js";
import { LEDGER_FILE, openLedger } from "../../state/ledger.js";

async function git(cwd: string, ...args: string[]): Promise<void> {
  const result = await runChild("git", args, { cwd, env: process.env });
  if (result.exitCode !== 0) throw new Error(`bench: git ${args.join(" ")} failed in ${cwd}: ${result.stderr || result.failure}`);
}

async function freshRepo(scratch: string, name: string): Promise<string> {
  const dir = join(scratch, name);
  await git(scratch, "init", "-q", "-b", "main", dir);
  for (const [k, v] of [["user.email", "bench@example.com"], ["user.name", "Bench"], ["gc.auto", "0"], ["commit.gpgsign", "false"]] as const) await git(dir, "config", k, v);
  writeFileSync(join(dir, ".gitignore"), ".gaffer/\n");
  for (let i = 0; i < 30; i++) writeFileSync(join(dir, `src-${i}.ts`), `export const v${i} = ${i};\n`);
  await git(dir, "add", "-A");
  await git(dir, "commit", "-q", "-m", "chore: initial");
  return dir;
}

function tasks(count: number): TaskManifest[] {
  return Array.from({ length: count }, (_, i) => ({ apiVersion: "gaffer/v1" as const, kind: "Task" as const, metadata: { name: `task-${i}` }, spec: { stage: "build", role: "builder", prompt: "x" } }));
}

async function workspace(dir: string, count: number): Promise<WorkspaceContext> {
  const manifests: ManifestSet = {
    project: { apiVersion: "gaffer/v1", kind: "Project", metadata: { name: "bench" }, spec: { repo: ".", policy: { approvers: ["a@example.com"] } } },
    agentPools: [{ apiVersion: "gaffer/v1", kind: "AgentPool", metadata: { name: "p" }, spec: { agents: [{ name: "scripted", profile: "scripted" }] } }],
    playbooks: [{ apiVersion: "gaffer/v1", kind: "Playbook", metadata: { name: "p" }, spec: { stages: [{ name: "build", approval: "none", roles: [{ name: "builder", allowedAgents: ["scripted"] }], gate: { commands: [["true"]] } }] } }],
    tasks: tasks(count),
    generation: "bench",
  };
  return { db: await openLedger(join(dir, LEDGER_FILE)), git: new GitCli(), config: resolveProject(manifests.project, dir), manifests, controlDir: dir, actor: "bench" };
}

/** utime, stime, cutime and cstime (clock ticks of 10 ms) from a /proc stat file. */
function statTimes(file: string): readonly number[] {
  const fields = readFileSync(file, "utf8").split(") ")[1]!.split(" ");
  return [11, 12, 13, 14].map((i) => Number(fields[i]));
}

/**
 * CPU milliseconds of this process, of its reaped children (git and what git
 * starts, counted once each has exited) and of its live children with their
 * reaped ones (the spawn helpers, which start git for both sides and live
 * on), from /proc; null where there is no /proc.
 */
function cpuMs(): number | null {
  if (!existsSync("/proc/self/stat")) return null;
  const own = process.cpuUsage();
  const [, , cutime, cstime] = statTimes("/proc/self/stat");
  let live = 0;
  for (const thread of readdirSync("/proc/self/task")) {
    for (const pid of readFileSync(`/proc/self/task/${thread}/children`, "utf8").split(" ").filter((p) => p.length > 0)) {
      try {
        live += statTimes(`/proc/${pid}/stat`).reduce((a, b) => a + b, 0);
      } catch {
        // ended meanwhile: its time is in cutime once reaped
      }
    }
  }
  return (own.user + own.system) / 1000 + (cutime! + cstime! + live) * 10;
}

/** Wall and CPU milliseconds `fn` took; the CPU figure barely moves with load where the wall one does. */
async function timed(fn: () => Promise<void>): Promise<{ readonly wall: number; readonly cpu: number }> {
  const [started, cpuBefore] = [performance.now(), cpuMs()];
  await fn();
  const cpuAfter = cpuMs();
  return { wall: performance.now() - started, cpu: cpuBefore === null || cpuAfter === null ? Number.NaN : cpuAfter - cpuBefore };
}

const names = (from: number, to: number): string[] => Array.from({ length: to - from }, (_, i) => `task-${from + i}`);

async function provisionBare(repo: string, from: number, to: number): Promise<void> {
  for (const name of names(from, to)) await git(repo, "worktree", "add", "-q", "-b", `gaffer/build/${name}`, join(repo, ".gaffer/worktrees", name), "main");
}

async function provisionGaffer(ctx: WorkspaceContext, from: number, to: number): Promise<void> {
  await createWorktrees(ctx, names(from, to));
}

async function pathBare(repo: string, from: number, to: number): Promise<void> {
  await provisionBare(repo, from, to);
  for (const name of names(from, to)) {
    const wt = join(repo, ".gaffer/worktrees", name);
    writeFileSync(join(wt, `${name}.txt`), `${name}\n`);
    await git(wt, "add", "-A");
    await git(wt, "commit", "-q", "-m", `feat: ${name}`);
  }
  for (const name of names(from, to)) {
    const wt = join(repo, ".gaffer/worktrees", name);
    await git(wt, "merge", "-q", "--no-edit", "main");
    await execa("true", [], { cwd: wt });
    await git(repo, "merge", "-q", "--ff-only", `gaffer/build/${name}`);
    await git(repo, "worktree", "remove", wt);
  }
}

async function pathGaffer(ctx: WorkspaceContext, from: number, to: number): Promise<void> {
  const created = await createWorktrees(ctx, names(from, to));
  for (const { task, worktree } of created) {
    writeFileSync(join(worktree.path, `${task}.txt`), `${task}\n`);
    await commitChanges(ctx, { task, message: `feat: ${task}` });
  }
  for (const task of names(from, to)) await requestMerge(ctx, task);
  const { finished } = await processMergeQueue(ctx, "main");
  const unmerged = finished.filter((m) => m.state !== "merged");
  if (unmerged.length > 0 || finished.length !== to - from) throw new Error(`bench merge failed: ${JSON.stringify(unmerged[0])}`);
}

interface Scenario {
  readonly key: string;
  readonly count: number;
  readonly chunk: number;
  bare(repo: string, from: number, to: number): Promise<void>;
  gaffer(ctx: WorkspaceContext, from: number, to: number): Promise<void>;
}

const SCENARIOS: readonly Scenario[] = [
  { key: "provision50", count: 50, chunk: 10, bare: provisionBare, gaffer: provisionGaffer },
  { key: "createCommitMerge20", count: 20, chunk: 5, bare: pathBare, gaffer: pathGaffer },
];

/**
 * Runs both sides in interleaved chunks (alternating which goes first) so a
 * busy machine slows both alike; the totals cover the whole work. `cpuRatio`
 * compares the CPU both sides spent (Node's own and every process it
 * started): on a machine shared with other work the wall ratio swings, this
 * one much less.
 */
async function runScenario(scratch: string, s: Scenario): Promise<Record<string, number>> {
  const bareRepo = await freshRepo(scratch, `${s.key}-bare`);
  const ctx = await workspace(await freshRepo(scratch, `${s.key}-gaffer`), s.count);
  const [bare, ours] = [{ wall: 0, cpu: 0 }, { wall: 0, cpu: 0 }];
  const add = (into: { wall: number; cpu: number }, t: { wall: number; cpu: number }): void => void Object.assign(into, { wall: into.wall + t.wall, cpu: into.cpu + t.cpu });
  try {
    for (let from = 0, i = 0; from < s.count; from += s.chunk, i++) {
      const to = Math.min(from + s.chunk, s.count);
      const runBare = async () => add(bare, await timed(() => s.bare(bareRepo, from, to)));
      const runOurs = async () => add(ours, await timed(() => s.gaffer(ctx, from, to)));
      if (i % 2 === 0) await runBare().then(runOurs);
      else await runOurs().then(runBare);
    }
  } finally {
    await ctx.db.destroy();
  }
  const figures = { gafferMs: Math.round(ours.wall), bareMs: Math.round(bare.wall), ratio: Number((ours.wall / bare.wall).toFixed(3)), gafferCpuMs: Math.round(ours.cpu), bareCpuMs: Math.round(bare.cpu), cpuRatio: Number((ours.cpu / bare.cpu).toFixed(3)) };
  return Object.fromEntries(Object.entries(figures).filter(([, v]) => Number.isFinite(v)).map(([k, v]) => [`${s.key}.${k}`, v]));
}

/** Milliseconds (wall and CPU) for gaffer and for bare git, and their ratios (target <= 1.25), per scenario. */
export async function benchGit(): Promise<Record<string, number>> {
  const scratch = mkdtempSync(join(tmpdir(), "gaffer-bench-git-"));
  try {
    const result: Record<string, number> = {};
    for (const s of SCENARIOS) Object.assign(result, await runScenario(scratch, s));
    return result;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await benchGit(), null, 2));
}
