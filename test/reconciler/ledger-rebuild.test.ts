import { existsSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { openLedger } from "../../state/ledger.js";
import { approvedFlowFixture } from "../helpers/approved-fixture.js";
import { runGaffer } from "../helpers/cli.js";
import { git } from "../helpers/git-repo.js";
import { tempDir } from "../helpers/temp.js";

const TASKS = { "add-a": "append notes-a.txt alpha\ncommit feat(add-a): add a", "add-b": "append notes-b.txt beta\ncommit feat(add-b): add b" };

/** Moves the ledger (and its WAL files) aside, as the README's advice for a corrupt ledger did. */
function moveLedgerAside(dir: string, to: string): void {
  mkdirSync(join(dir, to), { recursive: true });
  for (const suffix of ["", "-wal", "-shm"]) {
    const file = join(dir, `.gaffer/ledger.sqlite${suffix}`);
    if (existsSync(file)) renameSync(file, join(dir, to, `ledger.sqlite${suffix}`));
  }
}

async function ledgerFacts(dir: string) {
  const db = await openLedger(join(dir, ".gaffer/ledger.sqlite"));
  try {
    const phases = Object.fromEntries([...(await db.selectFrom("stages").select(["name", "phase"]).execute()).map((s) => [`stage/${s.name}`, s.phase]), ...(await db.selectFrom("tasks").select(["name", "phase"]).execute()).map((t) => [`task/${t.name}`, t.phase])]);
    const actions = (await db.selectFrom("events").select(["action", "subject"]).orderBy("id").execute()).map((e) => `${e.action} ${e.subject}`);
    return { phases, actions };
  } finally {
    await db.destroy();
  }
}

test("an empty ledger on a finished project: `up --once` re-runs nothing, adds no commit, and shows every task Merged; `ledger rebuild` reports what it found", async () => {
  const log = join(tempDir("gaffer-h5-rebuild-"), "prompts.jsonl");
  const { dir, target } = await approvedFlowFixture({ capacity: 2, buildTasks: TASKS, agentEnv: { GAFFER_SCRIPTED_LOG: log } });
  const env = { GAFFER_LOG_LEVEL: "warn" };
  const first = await runGaffer(["up", "--once", "--dir", dir], { env });
  expect(first.exitCode, first.stderr).toBe(0);
  const head = git(target, "rev-parse", "main");
  const prompts = readFileSync(log, "utf8");
  const finished = { "stage/plan": "Passed", "stage/build": "Passed", "task/write-plan": "Merged", "task/add-a": "Merged", "task/add-b": "Merged" };
  expect((await ledgerFacts(dir)).phases).toEqual(finished);

  moveLedgerAside(dir, ".gaffer/lost-1");
  const again = await runGaffer(["up", "--once", "--dir", dir], { env });
  expect(again.exitCode, again.stderr).toBe(0);
  expect(git(target, "rev-parse", "main")).toBe(head);
  expect(readFileSync(log, "utf8")).toBe(prompts);
  const facts = await ledgerFacts(dir);
  expect(facts.phases).toEqual(finished);
  expect(facts.actions).toEqual(expect.arrayContaining(["MergeRecognized task/write-plan", "MergeRecognized task/add-a", "MergeRecognized task/add-b", "LedgerRebuilt project/ledger"]));
  expect(facts.actions.filter((a) => /^(SessionCreated|WorktreeCreated|MergeSucceeded|CommandIssued) /.test(a))).toEqual([]);
  const subjects = git(target, "log", "--format=%s", "main").split("\n");
  expect(subjects.length).toBe(new Set(subjects).size);

  moveLedgerAside(dir, ".gaffer/lost-2");
  const rebuilt = await runGaffer(["ledger", "rebuild", "--json", "--dir", dir]);
  expect(rebuilt.exitCode, rebuilt.stderr).toBe(0);
  const report = JSON.parse(rebuilt.stdout) as { ledgerWasEmpty: boolean; merged: { task: string; how: string }[]; toRun: string[]; approvals: { stage: string; reason: string }[] };
  expect(report.ledgerWasEmpty).toBe(true);
  expect(report.merged.map((m) => [m.task, m.how]).sort()).toEqual([["add-a", "trailer"], ["add-b", "trailer"], ["write-plan", "trailer"]]);
  expect(report.toRun).toEqual([]);
  expect(report.approvals).toEqual([expect.objectContaining({ stage: "build", reason: "Granted" })]);
  const text = await runGaffer(["ledger", "rebuild", "--dir", dir]);
  expect(text.exitCode, text.stderr).toBe(0);
  expect(text.stdout.split("\n")).toEqual(expect.arrayContaining(["the ledger was checked against git and the status files", "merged   task add-a: already recorded", "to run: nothing"]));
  // The rebuilt ledger is one a controller finishes at once: nothing runs.
  const after = await runGaffer(["up", "--once", "--dir", dir], { env });
  expect(after.exitCode, after.stderr).toBe(0);
  expect(git(target, "rev-parse", "main")).toBe(head);
  expect(readFileSync(log, "utf8")).toBe(prompts);
  expect((await ledgerFacts(dir)).phases).toEqual(finished);
}, 240_000);
