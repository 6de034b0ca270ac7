import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import pino from "pino";
import { expect, test } from "vitest";
import { runController } from "../../controller/reconciler/run-controller.js";
import { buildTaskEffects } from "../../controller/reconciler/task-effects.js";
import { openLedger } from "../../state/ledger.js";
import { findActiveWorktree } from "../../state/worktrees.repository.js";
import { git } from "../helpers/git-repo.js";
import { APPROVER, flowFixture } from "../helpers/flow-fixture.js";
import { runGaffer } from "../helpers/cli.js";
import { approvedFlowFixture } from "../helpers/approved-fixture.js";
import { tempDir, waitFor } from "../helpers/temp.js";

const logger = pino({ level: process.env.GAFFER_TEST_LOG ?? "silent" });

test("an agent killed mid-work is detected, restarted in its worktree, and told to continue; the crashed prompt is never re-sent", async () => {
  const { dir, target } = flowFixture({ planStage: false, capacity: 1, buildTasks: { "add-a": "sleep 2500\nwrite a.txt <<<alpha\ncommit feat(add-a): add a" } });
  let stop!: () => void;
  const running = runController({ dir, logger, effects: buildTaskEffects, resyncMs: 60_000, healthMs: 200, stopSignal: new Promise<void>((r) => (stop = r)) });
  const db = await openLedger(join(dir, ".gaffer/ledger.sqlite"));
  try {
    await waitFor(async () => ((await db.selectFrom("stages").select("phase").where("name", "=", "build").executeTakeFirst())?.phase === "AwaitingApproval" ? true : undefined), { timeoutMs: 30_000, what: "build awaiting approval" });
    expect((await runGaffer(["approve", "build", "--dir", dir], { env: { GIT_AUTHOR_EMAIL: APPROVER, GIT_COMMITTER_EMAIL: APPROVER } })).exitCode).toBe(0);
    const busy = await waitFor(async () => db.selectFrom("sessions").select(["id", "pane_pid"]).where("task", "=", "add-a").where("status", "=", "running").where("pane_pid", "is not", null).executeTakeFirst(), { timeoutMs: 30_000, what: "agent working" });
    // The ledger knows the agent took the prompt (acknowledged) before it dies.
    await waitFor(async () => db.selectFrom("commands").select("id").where("idempotency_key", "=", "task:add-a:work:1").where("state", "=", "acknowledged").executeTakeFirst(), { what: "prompt acknowledged" });
    const killedAt = Date.now();
    process.kill(busy.pane_pid!, "SIGKILL");
    await waitFor(async () => db.selectFrom("events").select("id").where("action", "=", "SessionCrashed").where("subject", "=", `session/${busy.id}`).executeTakeFirst(), { timeoutMs: 5000, what: "crash detected" });
    expect(Date.now() - killedAt).toBeLessThan(2000);
    await waitFor(async () => ((await db.selectFrom("stages").select("phase").where("name", "=", "build").executeTakeFirst())?.phase === "Passed" ? true : undefined), { timeoutMs: 60_000, what: "build passed" }).catch(async (error: unknown) => {
      const events = await db.selectFrom("events").select(["at", "action", "subject", "payload"]).where("action", "not in", ["SessionStatusChanged", "CapacityReserved"]).orderBy("id").execute();
      throw new Error(`${String(error)}\n${events.slice(-25).map((e) => `${e.at} ${e.action} ${e.subject} ${e.payload.slice(0, 300)}`).join("\n")}`);
    });
    expect(git(target, "show", "main:a.txt")).toBe("alpha");
    const commands = await db.selectFrom("commands").select(["idempotency_key", "state"]).where("idempotency_key", "like", "task:add-a:work:%").orderBy("issued_at").execute();
    expect(commands).toEqual([
      { idempotency_key: "task:add-a:work:1", state: "failed" },
      { idempotency_key: "task:add-a:work:1#after-crash", state: "done" },
    ]);
    expect(await db.selectFrom("events").select("id").where("action", "=", "SessionRestarted").where("subject", "=", `session/${busy.id}`).execute()).toHaveLength(1);
  } finally {
    stop();
    await running;
    await db.destroy();
  }
}, 120_000);

test("tmux server killed mid-prompt with non-idempotent work: the continue prompt names the commit, the work is done once, the task is Merged", async () => {
  const root = tempDir("gaffer-h5-crash-");
  const log = join(root, "prompts.jsonl");
  const prompt = "append notes.txt one line\ncommit feat(add-a): append a line\nsleep 1500\ndone appended";
  const { dir, target, socket } = await approvedFlowFixture({ planStage: false, capacity: 1, buildTasks: { "add-a": prompt }, gate: `[[sh, -c, "test $(wc -l < notes.txt) -eq 1"]]`, agentEnv: { GAFFER_SCRIPTED_LOG: log } });
  let stop!: () => void;
  const running = runController({ dir, logger, effects: buildTaskEffects, resyncMs: 60_000, healthMs: 200, stopSignal: new Promise<void>((r) => (stop = r)) });
  const db = await openLedger(join(dir, ".gaffer/ledger.sqlite"));
  try {
    // The agent appended and committed, and is still inside the prompt (sleeping): kill the whole tmux server.
    // Every 100 ms, not 25: each look forks git from this process (blocking the controller that runs in it), and the
    // agent stays 1.5 s inside the prompt after its commit.
    await waitFor(async () => (git(target, "log", "--branches", "--format=%s").split("\n").includes("feat(add-a): append a line") ? true : undefined), { timeoutMs: 60_000, intervalMs: 100, what: "the agent's commit" });
    execFileSync("tmux", ["-L", socket, "kill-server"], { env: { ...process.env, TMUX: "" } });
    await waitFor(async () => ((await db.selectFrom("tasks").select("phase").where("name", "=", "add-a").executeTakeFirst())?.phase === "Merged" ? true : undefined), { timeoutMs: 90_000, what: "add-a merged" }).catch(async (error: unknown) => {
      const events = await db.selectFrom("events").select(["at", "action", "subject", "payload"]).where("action", "not in", ["SessionStatusChanged", "CapacityReserved"]).orderBy("id").execute();
      throw new Error(`${String(error)}\n${events.slice(-25).map((e) => `${e.at} ${e.action} ${e.subject} ${e.payload.slice(0, 300)}`).join("\n")}`);
    });
    expect(git(target, "show", "main:notes.txt")).toBe("one line");
    const subjects = git(target, "log", "--format=%s", "main").split("\n");
    expect(subjects.filter((s) => s === "feat(add-a): append a line")).toHaveLength(1);
    const received = readFileSync(log, "utf8").split("\n").filter((l) => l !== "").map((l) => (JSON.parse(l) as { text: string }).text.trimEnd()).filter((t) => t.includes("notes.txt"));
    expect(received).toHaveLength(2);
    expect(received[0]).toBe(prompt);
    const [header, ...rest] = received[1]!.split("\n");
    expect(header).toMatch(/^# gaffer: continue after a crash\. Your previous session on task add-a ended \(failed: session crashed.*\) while working on the prompt below\.$/);
    expect(rest).toEqual(expect.arrayContaining([expect.stringMatching(/^# {3}[0-9a-f]{12} feat\(add-a\): append a line$/), expect.stringMatching(/^# {4}notes\.txt \| 1 \+$/), "# Do NOT redo any of that: check the files and the commits above, finish only what is left of the prompt, then stop."]));
    expect(received[1]!.endsWith(`# The prompt was:\n${prompt}`)).toBe(true);
    const commands = await db.selectFrom("commands").select(["idempotency_key", "state"]).where("idempotency_key", "like", "task:add-a:work:%").orderBy("issued_at").execute();
    expect(commands).toEqual([
      { idempotency_key: "task:add-a:work:1", state: "failed" },
      { idempotency_key: "task:add-a:work:1#after-crash", state: "done" },
    ]);
  } finally {
    stop();
    await running;
    await db.destroy();
  }
}, 180_000);

test("tmux server killed after uncommitted non-idempotent work: the continue prompt lists the file, the append is not redone, the task is Merged", async () => {
  const root = tempDir("gaffer-crash-uncommitted-");
  const log = join(root, "prompts.jsonl");
  const prompt = "append notes.txt one line\nsleep 2500\ncommit feat(add-a): append a line\ndone appended";
  const { dir, target, socket } = await approvedFlowFixture({ planStage: false, capacity: 1, buildTasks: { "add-a": prompt }, gate: `[[sh, -c, "test $(wc -l < notes.txt) -eq 1"]]`, agentEnv: { GAFFER_SCRIPTED_LOG: log } });
  let stop!: () => void;
  const running = runController({ dir, logger, effects: buildTaskEffects, resyncMs: 60_000, healthMs: 200, stopSignal: new Promise<void>((r) => (stop = r)) });
  const db = await openLedger(join(dir, ".gaffer/ledger.sqlite"));
  try {
    // The agent appended (not committed yet) and sleeps: kill the whole tmux server.
    const notes = await waitFor(async () => {
      const worktree = await findActiveWorktree(db, "add-a");
      return worktree !== null && existsSync(join(worktree.path, "notes.txt")) ? join(worktree.path, "notes.txt") : undefined;
    }, { timeoutMs: 60_000, what: "the agent's uncommitted append" });
    execFileSync("tmux", ["-L", socket, "kill-server"], { env: { ...process.env, TMUX: "" } });
    expect(readFileSync(notes, "utf8")).toBe("one line\n");
    await waitFor(async () => ((await db.selectFrom("tasks").select("phase").where("name", "=", "add-a").executeTakeFirst())?.phase === "Merged" ? true : undefined), { timeoutMs: 90_000, what: "add-a merged" }).catch(async (error: unknown) => {
      const events = await db.selectFrom("events").select(["at", "action", "subject", "payload"]).where("action", "not in", ["SessionStatusChanged", "CapacityReserved"]).orderBy("id").execute();
      throw new Error(`${String(error)}\n${events.slice(-25).map((e) => `${e.at} ${e.action} ${e.subject} ${e.payload.slice(0, 300)}`).join("\n")}`);
    });
    expect(git(target, "show", "main:notes.txt")).toBe("one line");
    expect(git(target, "log", "--format=%s", "main").split("\n").filter((s) => s === "feat(add-a): append a line")).toHaveLength(1);
    const received = readFileSync(log, "utf8").split("\n").filter((l) => l !== "").map((l) => (JSON.parse(l) as { text: string }).text.trimEnd()).filter((t) => t.includes("notes.txt"));
    expect(received).toHaveLength(2);
    expect(received[1]!.split("\n")).toEqual(expect.arrayContaining(["# Commits (oldest first): none", "# Uncommitted (git status --short):", "#   ?? notes.txt"]));
  } finally {
    stop();
    await running;
    await db.destroy();
  }
}, 180_000);
