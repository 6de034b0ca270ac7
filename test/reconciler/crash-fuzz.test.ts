import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { execa } from "execa";
import { expect, test } from "vitest";
import { openLedger } from "../../state/ledger.js";
import { approvedFlowFixture } from "../helpers/approved-fixture.js";
import { GAFFER_BIN } from "../helpers/cli.js";
import { git } from "../helpers/git-repo.js";
import { tempDir } from "../helpers/temp.js";
import { seededRandom } from "../helpers/seeded-random.js";

/**
 * The crash fuzz: `gaffer up --once` killed with SIGKILL at random moments
 * and at each delivery step of a prompt (right after it is `issued`, after
 * the paste, after Enter), restarted until it finishes by itself. Seeded:
 * the seed is printed, `GAFFER_FUZZ_SEED=N` replays it, `GAFFER_FUZZ_RUNS`
 * changes the number of runs (default 8), `GAFFER_FUZZ_MAX_KILLS` the most
 * random kills in one run (default 2), `GAFFER_FUZZ_ONLY=N` replays run N alone.
 */
const SEED = Number(process.env.GAFFER_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
// 5 runs by default, for the suite's time budget (a run is a whole plan-and-build flow, ~12 s of CPU): 3 targeted
// runs that each kill at two delivery steps in turn, so every step (issued, typed, submitted) is killed twice in
// every suite run (6 targeted kills, as many as the 6 one-kill runs before, in half the flows), and 2 random runs.
// The seed changes at every run, so the delays and the random moments differ from one CI run to the next;
// GAFFER_FUZZ_RUNS=50 for a longer fuzz.
const RUNS = Number(process.env.GAFFER_FUZZ_RUNS ?? 5);
const MAX_KILLS = Math.max(1, Number(process.env.GAFFER_FUZZ_MAX_KILLS ?? 2));
/** `GAFFER_FUZZ_ONLY=N` replays run N of the seed alone. */
const ONLY = process.env.GAFFER_FUZZ_ONLY === undefined ? null : Number(process.env.GAFFER_FUZZ_ONLY);
/** A restarted `up --once` that has not converged by then is an anomaly, not a hung suite. */
const CONVERGE_MS = Number(process.env.GAFFER_FUZZ_CONVERGE_MS ?? 240_000);
const PARALLEL = 4;

// Non-idempotent work: a doubled prompt appends twice and shows up as a duplicate line or commit.
const TASKS = { "add-a": "append a.txt alpha\ncommit feat(add-a): add a", "add-b": "append b.txt beta\ncommit feat(add-b): add b" };
const PLAN = "write PLAN.md <<<plan: build the tasks\ncommit docs(write-plan): plan";
const PROMPTS = [PLAN, ...Object.values(TASKS)].sort();

/** When to kill: after a random delay, or the moment a prompt reaches a delivery step (plus a small random delay). */
type Kill = { readonly kind: "random"; readonly afterMs: number } | { readonly kind: "issued" | "typed" | "submitted"; readonly delayMs: number };

/** The column that shows a command passed the step, and the next one that must still be empty. */
const STEP: Record<"issued" | "typed" | "submitted", readonly [string, string]> = { issued: ["issued_at", "typed_at"], typed: ["typed_at", "submitted_at"], submitted: ["submitted_at", "acknowledged_at"] };

function up(dir: string, log: string) {
  return execa(process.execPath, [GAFFER_BIN, "up", "--once", "--dir", dir], { env: { TMUX: "", GAFFER_LOG_LEVEL: process.env.GAFFER_FUZZ_LOG_LEVEL ?? "warn", GAFFER_SCRIPTED_LOG: log }, reject: false });
}

/** Polls the ledger (read-only) until a command sits right after `step`; true when it was caught there, false when the run ended first. */
async function untilStep(dir: string, step: "issued" | "typed" | "submitted", ended: () => boolean): Promise<boolean> {
  const [done, next] = STEP[step];
  const file = join(dir, ".gaffer/ledger.sqlite");
  let db: Database.Database | null = null;
  try {
    while (!ended()) {
      try {
        db ??= existsSync(file) ? new Database(file, { readonly: true, fileMustExist: true }) : null;
        const row = db?.prepare(`select id from commands where ${done} is not null and ${next} is null and state not in ('done', 'failed', 'stranded') limit 1`).get();
        if (row !== undefined) return true;
      } catch {
        // the schema is not there yet
      }
      await new Promise((r) => setTimeout(r, 3)); // the poll interval of this ledger poll loop
    }
    return false;
  } finally {
    db?.close();
  }
}

/** One `up --once`, killed per `kill`; returns whether it was killed (false: it finished first). */
async function killedRun(dir: string, log: string, kill: Kill): Promise<boolean> {
  const child = up(dir, log);
  let ended = false;
  void child.finally(() => (ended = true));
  // The seeded kill moment is the fuzz's input (a deliberate delay, not a wait for state; the step itself is polled).
  if (kill.kind === "random") await Promise.race([new Promise((r) => setTimeout(r, kill.afterMs)), child]); // kill moment, not a poll
  else if (await untilStep(dir, kill.kind, () => ended)) await new Promise((r) => setTimeout(r, kill.delayMs)); // kill moment after the polled step
  if (ended) return false;
  child.kill("SIGKILL");
  await child;
  return true;
}

interface RunFacts {
  readonly phases: Record<string, string>;
  readonly mainFiles: readonly string[];
  readonly received: readonly string[];
  readonly duplicateSubjects: readonly string[];
  readonly mergedButNotMerged: readonly string[];
  readonly openSessions: number;
  /** Why tasks failed (evidence for an anomaly). */
  readonly failures: readonly string[];
}

async function runFacts(dir: string, target: string, log: string): Promise<RunFacts> {
  const db = await openLedger(join(dir, ".gaffer/ledger.sqlite"));
  try {
    const stages = await db.selectFrom("stages").select(["name", "phase"]).execute();
    const tasks = await db.selectFrom("tasks").select(["name", "phase"]).execute();
    const subjects = git(target, "log", "--format=%s", "main").split("\n");
    const onMain = git(target, "log", "--format=%(trailers:key=Gaffer-Task,valueonly)", "main").split("\n").filter((t) => t.trim() !== "");
    return {
      phases: Object.fromEntries([...stages.map((s) => [`stage/${s.name}`, s.phase]), ...tasks.map((t) => [`task/${t.name}`, t.phase])]),
      mainFiles: git(target, "ls-tree", "--name-only", "main").split("\n").sort(),
      received: existsSync(log) ? readFileSync(log, "utf8").split("\n").filter((l) => l !== "").map((l) => (JSON.parse(l) as { text: string }).text.trimEnd()).sort() : [],
      duplicateSubjects: subjects.filter((s, i) => subjects.indexOf(s) !== i),
      mergedButNotMerged: [...new Set(onMain)].filter((task) => tasks.find((t) => t.name === task)?.phase !== "Merged"),
      failures: (await db.selectFrom("events").select(["subject", "payload"]).where("action", "=", "TaskPhaseChanged").execute()).filter((e) => e.payload.includes('"to":"Failed"')).map((e) => `${e.subject}: ${e.payload.slice(0, 400)}`),
      openSessions: (await db.selectFrom("sessions").select("id").where("state", "not in", ["Closed", "Failed"]).execute()).length,
    };
  } finally {
    await db.destroy();
  }
}

/** The last ledger events of a run that did not converge (its evidence). */
async function ledgerTail(dir: string): Promise<string> {
  const db = new Database(join(dir, ".gaffer/ledger.sqlite"), { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare("select at, action, subject, substr(payload, 1, 200) as payload from events where action not in ('SessionStatusChanged') order by id desc limit 15").all() as { at: string; action: string; subject: string; payload: string }[];
    const tasks = db.prepare("select name, phase from tasks").all();
    return `tasks ${JSON.stringify(tasks)}; last events:\n${rows.reverse().map((r) => `${r.at} ${r.action} ${r.subject} ${r.payload}`).join("\n")}`;
  } finally {
    db.close();
  }
}

/** Kills per plan, then restarts until a run finishes by itself; returns the facts and how many kills landed. */
async function fuzzRun(kills: readonly Kill[]): Promise<{ facts: RunFacts; landed: number; contents: Record<string, string> } | { stuck: string; landed: number }> {
  const fixture = await approvedFlowFixture({ capacity: 2, buildTasks: TASKS });
  const log = join(tempDir("gaffer-fuzz-log-"), "prompts.jsonl");
  let landed = 0;
  for (const kill of kills) if (await killedRun(fixture.dir, log, kill)) landed++;
  for (let restart = 0; ; restart++) {
    const run = up(fixture.dir, log);
    const timer = setTimeout(() => run.kill("SIGKILL"), CONVERGE_MS); // a convergence deadline, not a sleep
    const result = await run.finally(() => clearTimeout(timer));
    if (result.exitCode === 0) break;
    // Not converging is an anomaly of this run, with its evidence, not the end of the fuzz.
    if (result.signal === "SIGKILL") return { stuck: `the restarted controller did not converge within ${CONVERGE_MS} ms in ${fixture.dir}: ${await ledgerTail(fixture.dir)} ${result.stderr.slice(-6000)}`, landed };
    if (restart >= 2) return { stuck: `restart ${restart} failed (exit ${result.exitCode}) in ${fixture.dir}: ${result.stderr.slice(-2000)}`, landed };
  }
  const show = (file: string): string => {
    try {
      return git(fixture.target, "show", `main:${file}`);
    } catch {
      return "(not on main)";
    }
  };
  const contents = Object.fromEntries(["a.txt", "b.txt"].map((f) => [f, show(f)]));
  return { facts: await runFacts(fixture.dir, fixture.target, log), landed, contents };
}

/**
 * A run's kill plan: in runs 0-2 two delivery steps in turn (each with a 0-80 ms delay after it), the second one
 * after the restart; later runs 1..MAX_KILLS random moments (each further kill with probability 1/2). The second
 * step is always a later one of its own prompt's delivery than the first (issued -> typed, typed -> submitted) or
 * `issued`, which the killed command (typed already) cannot match: it waits for a delivery of the restarted controller.
 */
function planKills(random: () => number, run: number): Kill[] {
  const steps = ["issued", "typed", "submitted"] as const;
  if (run < 3) return [steps[run]!, steps[(run + 1) % 3]!].map((kind) => ({ kind, delayMs: Math.floor(random() * 80) }));
  const kills: Kill[] = [{ kind: "random", afterMs: 300 + Math.floor(random() * 4000) }];
  while (kills.length < MAX_KILLS && random() < 0.5) kills.push({ kind: "random", afterMs: 300 + Math.floor(random() * 3000) });
  return kills;
}

test("crash fuzz: kill -9 of `gaffer up` at random moments and at each delivery step; every prompt reaches the agent once, no duplicate commit, every merged branch's task Merged", async () => {
  process.stderr.write(`crash fuzz: seed ${SEED}, ${RUNS} runs (replay with GAFFER_FUZZ_SEED=${SEED})\n`);
  const random = seededRandom(SEED);
  const all = Array.from({ length: ONLY === null ? RUNS : ONLY + 1 }, (_, run) => planKills(random, run));
  const plans = ONLY === null ? all : all.slice(ONLY);
  const finished = { "stage/plan": "Passed", "stage/build": "Passed", "task/write-plan": "Merged", "task/add-a": "Merged", "task/add-b": "Merged" };
  let kills = 0;
  const anomalies: string[] = [];
  for (let i = 0; i < plans.length; i += PARALLEL) {
    const batch = plans.slice(i, i + PARALLEL);
    const results = await Promise.all(batch.map((kill) => fuzzRun(kill)));
    for (const [j, result] of results.entries()) {
      kills += result.landed;
      const what = `run ${ONLY ?? i + j} (${JSON.stringify(batch[j])})`;
      if ("stuck" in result) {
        anomalies.push(`${what}: ${result.stuck}`);
        continue;
      }
      const { facts, contents } = result;
      const check = (ok: boolean, problem: string) => ok || anomalies.push(`${what}: ${problem}`);
      check(JSON.stringify(facts.received) === JSON.stringify(PROMPTS), `the agent received ${JSON.stringify(facts.received)}, not each prompt once`);
      check(facts.duplicateSubjects.length === 0, `duplicate commit subjects on main: ${facts.duplicateSubjects.join(", ")}`);
      check(facts.mergedButNotMerged.length === 0, `trailer on main but task not Merged: ${facts.mergedButNotMerged.join(", ")}`);
      check(contents["a.txt"] === "alpha" && contents["b.txt"] === "beta", `work on main not once: ${JSON.stringify(contents)}`);
      check(JSON.stringify(facts.phases) === JSON.stringify(finished) || Object.entries(finished).every(([k, v]) => facts.phases[k] === v), `phases ${JSON.stringify(facts.phases)}; ${facts.failures.join("; ")}`);
      check(facts.openSessions === 0, `${facts.openSessions} sessions left open`);
    }
    process.stderr.write(`crash fuzz: seed ${SEED}: ${Math.min(i + PARALLEL, RUNS)}/${RUNS} runs, ${kills} kills, ${anomalies.length} anomalies so far\n`);
  }
  process.stderr.write(`crash fuzz: seed ${SEED}: ${RUNS} runs, ${kills} kills landed, ${anomalies.length} anomalies\n${anomalies.join("\n")}\n`);
  expect(anomalies, `seed ${SEED} (replay with GAFFER_FUZZ_SEED=${SEED})`).toEqual([]);
}, Math.max(600_000, RUNS * 90_000));
