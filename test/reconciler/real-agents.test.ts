import { join } from "node:path";
import pino from "pino";
import { expect, test } from "vitest";
import { buildReport } from "../../controller/report/report.js";
import { runController } from "../../controller/reconciler/run-controller.js";
import { buildTaskEffects } from "../../controller/reconciler/task-effects.js";
import { readAgentEvents } from "../../state/agent-events.repository.js";
import { runGaffer } from "../helpers/cli.js";
import { git } from "../helpers/git-repo.js";
import { realAgentFixture } from "../helpers/real-agents.js";

const logger = pino({ level: process.env.GAFFER_TEST_LOG ?? "silent" });

test("end to end through the controller with the real claude and the real codex: no trust dialog in their new worktrees, claude's hooks acknowledge and finish its prompt, gaffer commits, gates and merges both, the report shows both sessions' tokens", async () => {
  const f = await realAgentFixture([
    { when: "greeting file", write: { path: "greeting.txt", content: "hello from claude" }, text: "Created greeting.txt." },
    { when: "codex file", write: { path: "codex.txt", content: "hello from codex" }, text: "Created codex.txt." },
  ], {
    stages: [{ name: "build", approval: "none", roles: [{ name: "claude-builder", count: 1, allowedAgents: ["claude"] }, { name: "codex-builder", count: 1, allowedAgents: ["codex"] }], gate: { commands: [["git", "diff", "--check", "HEAD~1"]] } }],
    tasks: [{ name: "greet", role: "claude-builder", prompt: "Create the greeting file." }, { name: "greet-codex", role: "codex-builder", prompt: "Create the codex file." }],
  });
  // The one decision a person makes: trust gaffer's worktree root (in the agent's HOME from the AgentPool).
  const trust = await runGaffer(["agents", "trust", "--dir", f.dir, "--json"]);
  expect(trust.exitCode, trust.stderr).toBe(0);
  const changes = (JSON.parse(trust.stdout) as { changes: { agent: string; action: string }[] }).changes;
  expect(changes.map((c) => [c.agent, c.action])).toEqual([["claude", "add"], ["codex", "add"]]);
  await runController({ dir: f.dir, logger, effects: buildTaskEffects, once: true });

  const db = f.ctx.db;
  expect(git(f.dir, "show", "main:greeting.txt")).toBe("hello from claude");
  expect(git(f.dir, "show", "main:codex.txt")).toBe("hello from codex");
  expect(await db.selectFrom("tasks").select(["name", "phase"]).orderBy("name").execute()).toEqual([{ name: "greet", phase: "Merged" }, { name: "greet-codex", phase: "Merged" }]);
  const session = await db.selectFrom("sessions").select(["id", "agent"]).where("agent", "=", "claude").executeTakeFirst();
  const codex = await db.selectFrom("sessions").select(["id", "agent"]).where("agent", "=", "codex").executeTakeFirstOrThrow();
  const [command] = await db.selectFrom("commands").select(["state", "evidence", "summary"]).where("session_id", "=", session!.id).execute();
  expect(command!.state).toBe("done");
  expect(JSON.parse(command!.evidence!)).toMatchObject({ by: "hook", rule: "claude/hook/Stop" });
  const events = await readAgentEvents(db, session!.id);
  expect(events.map((e) => e.event)).toEqual(expect.arrayContaining(["SessionStart", "UserPromptSubmit", "Stop"]));
  expect(events.find((e) => e.event === "UserPromptSubmit")!.prompt).toContain("Create the greeting file.");
  // The agent never showed a waiting screen (no trust or permission dialog).
  const statuses = await db.selectFrom("events").select("payload").where("subject", "=", `session/${session!.id}`).where("action", "=", "SessionStatusChanged").execute();
  expect(statuses.map((s) => (JSON.parse(s.payload) as { status: string }).status)).not.toContain("waiting");
  const report = await buildReport(db);
  for (const id of [session!.id, codex.id]) {
    const row = report.sessions.find((s) => s.id === id)!;
    expect(typeof row.tokens === "object" && row.tokens.output > 0, `${id} tokens: ${JSON.stringify(row.tokens)}`).toBe(true);
  }
  const codexEvents = await readAgentEvents(db, codex.id);
  expect(codexEvents.some((e) => e.evidenceId === "codex/hook/agent-turn-complete" && e.prompt === "Create the codex file.")).toBe(true);
  const codexStatuses = await db.selectFrom("events").select("payload").where("subject", "=", `session/${codex.id}`).where("action", "=", "SessionStatusChanged").execute();
  expect(codexStatuses.map((s) => (JSON.parse(s.payload) as { status: string }).status)).not.toContain("waiting");
}, 200_000);
