import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { expect, test } from "vitest";
import { resolveAgent } from "../../controller/core/agent-profiles.js";
import { capacityLimits } from "../../controller/core/capacity.js";
import { allAgents, findStage, resolveProject } from "../../controller/core/project-config.js";
import { planStage } from "../../controller/core/stage-plan.js";
import { loadManifestSet } from "../../controller/manifest/load.js";
import { openLedger } from "../../state/ledger.js";
import { GAFFER_BIN } from "../helpers/cli.js";
import { git } from "../helpers/git-repo.js";
import { APPROVER, commitAs, flowFixture, type FlowFixture } from "../helpers/flow-fixture.js";

const TASKS = { "add-a": "write a.txt <<<alpha\nsleep 200\ncommit feat(add-a): add a", "add-b": "write b.txt <<<beta\nsleep 200\ncommit feat(add-b): add b" };

/** A fixture whose build plan is approved up front (the digest is what the controller will propose). */
async function approvedFixture(): Promise<FlowFixture> {
  const fixture = flowFixture({ capacity: 2, buildTasks: TASKS });
  const set = await loadManifestSet(fixture.dir);
  const config = resolveProject(set.project);
  const agents = allAgents(set).map(resolveAgent);
  const plan = planStage(set, config, agents, capacityLimits(config, agents), findStage(set, "build")!);
  mkdirSync(join(fixture.dir, "status/stages"), { recursive: true });
  writeFileSync(join(fixture.dir, "status/stages/build.yaml"), `approvals:\n  - {requestId: ${plan.request!.id}, decision: approved}\n`);
  commitAs(fixture.dir, APPROVER, "chore(approval): approve build", "status/stages/build.yaml");
  return fixture;
}

function up(dir: string, killAfterMs?: number) {
  return execa(process.execPath, [GAFFER_BIN, "up", "--once", "--dir", dir], {
    env: { TMUX: "", GAFFER_LOG_LEVEL: "warn" },
    reject: false,
    ...(killAfterMs === undefined ? {} : { cancelSignal: AbortSignal.timeout(killAfterMs), killSignal: "SIGKILL" as const }),
  });
}

interface FinalState {
  readonly phases: Record<string, string>;
  readonly mainFiles: string[];
  readonly mainCommits: number;
  readonly mergedPerTask: Record<string, number>;
  readonly worktreeRowsPerTask: Record<string, number>;
  readonly workPromptsDone: Record<string, number>;
  readonly nonTerminalCommands: number;
  readonly openSessions: number;
  /** Why tasks failed (empty when none did): evidence for a failing run, not compared. */
  readonly failures?: string;
}

async function finalState(fixture: FlowFixture): Promise<FinalState> {
  const db = await openLedger(join(fixture.dir, ".gaffer/ledger.sqlite"));
  try {
    const count = (rows: { task: string }[]) => rows.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.task]: (acc[r.task] ?? 0) + 1 }), {});
    const stages = await db.selectFrom("stages").select(["name", "phase"]).execute();
    const tasks = await db.selectFrom("tasks").select(["name", "phase"]).execute();
    const commands = await db.selectFrom("commands").select(["idempotency_key", "state"]).execute();
    const done = commands.filter((c) => c.state === "done" && /^task:[^:]+:work:/.test(c.idempotency_key)).map((c) => ({ task: c.idempotency_key.split(":")[1]! }));
    return {
      phases: Object.fromEntries([...stages.map((s) => [`stage/${s.name}`, s.phase]), ...tasks.map((t) => [`task/${t.name}`, t.phase])]),
      mainFiles: git(fixture.target, "ls-tree", "--name-only", "main").split("\n").sort(),
      mainCommits: Number(git(fixture.target, "rev-list", "--count", "main")),
      mergedPerTask: count(await db.selectFrom("merges").select("task").where("state", "=", "merged").execute()),
      worktreeRowsPerTask: count(await db.selectFrom("worktrees").select("task").execute()),
      workPromptsDone: count(done),
      nonTerminalCommands: commands.filter((c) => !["done", "failed", "stranded"].includes(c.state)).length,
      openSessions: (await db.selectFrom("sessions").select("id").where("state", "not in", ["Closed", "Failed"]).execute()).length,
      failures: (await db.selectFrom("events").select(["action", "subject", "payload"]).where("action", "=", "TaskPhaseChanged").execute()).filter((e) => e.payload.includes('"to":"Failed"')).map((e) => `${e.subject}: ${e.payload}`).join("\n"),
    };
  } finally {
    await db.destroy();
  }
}

/** Kills `up --once` with SIGKILL after `killAfterMs`, then restarts it until it finishes by itself. */
async function disturbedRun(killAfterMs: number): Promise<FinalState> {
  const fixture = await approvedFixture();
  const started = Date.now();
  const killed = await up(fixture.dir, killAfterMs);
  for (let restart = 0; restart < 3; restart++) {
    const result = await up(fixture.dir);
    if (result.exitCode === 0) break;
    throw new Error(`restart ${restart} failed (exit ${result.exitCode}): ${result.stderr.slice(-2000)}; the killed run said: ${killed.stderr.slice(-500)}`);
  }
  if (process.env.GAFFER_FUZZ_TRACE === "1") process.stderr.write(`kill at ${killAfterMs} ms: converged after ${Date.now() - started} ms\n`);
  return finalState(fixture);
}

test("kill -9 at random moments: every restarted controller converges to the undisturbed result, with no duplicates", async () => {
  const baseline = await approvedFixture();
  const clean = await up(baseline.dir);
  expect(clean.exitCode, clean.stderr).toBe(0);
  const expected = await finalState(baseline);
  expect(expected.phases).toEqual({ "stage/plan": "Passed", "stage/build": "Passed", "task/write-plan": "Merged", "task/add-a": "Merged", "task/add-b": "Merged" });
  expect(expected).toMatchObject({ mergedPerTask: { "write-plan": 1, "add-a": 1, "add-b": 1 }, worktreeRowsPerTask: { "write-plan": 1, "add-a": 1, "add-b": 1 }, nonTerminalCommands: 0, openSessions: 0 });

  // 10 kill moments spread over the run (seeded spread, not a fixed list), two runs at a time.
  const moments = Array.from({ length: 10 }, (_, i) => 300 + Math.round((i + Math.random()) * 450));
  for (let i = 0; i < moments.length; i += 2) {
    const results = await Promise.all(moments.slice(i, i + 2).map((ms) => disturbedRun(ms)));
    for (const [j, result] of results.entries()) expect(result, `killed after ${moments[i + j]} ms: ${result.failures}`).toEqual(expected);
  }
}, 300_000);
