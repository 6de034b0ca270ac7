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

test("end to end through the controller with the real claude: no trust dialog in its new worktree, hooks acknowledge and finish the prompt, gaffer commits, gates and merges, the report shows its tokens", async () => {
  const f = await realAgentFixture([{ when: "greeting file", write: { path: "greeting.txt", content: "hello from claude" }, text: "Created greeting.txt." }], {
    stages: [{ name: "build", approval: "none", roles: [{ name: "builder", count: 1, allowedAgents: ["claude"] }], gate: { commands: [["test", "-f", "greeting.txt"]] } }],
    tasks: [{ name: "greet", prompt: "Create the greeting file." }],
  });
  // The one decision a person makes: trust gaffer's worktree root (in the agent's HOME from the AgentPool).
  const trust = await runGaffer(["agents", "trust", "--dir", f.dir, "--json"]);
  expect(trust.exitCode, trust.stderr).toBe(0);
  expect((JSON.parse(trust.stdout) as { changes: { agent: string; action: string }[] }).changes.find((c) => c.agent === "claude")?.action).toBe("add");
  await runController({ dir: f.dir, logger, effects: buildTaskEffects, once: true });

  const db = f.ctx.db;
  expect(git(f.dir, "show", "main:greeting.txt")).toBe("hello from claude");
  expect(await db.selectFrom("tasks").select(["name", "phase"]).execute()).toEqual([{ name: "greet", phase: "Merged" }]);
  const [session] = await db.selectFrom("sessions").select(["id", "agent"]).execute();
  expect(session!.agent).toBe("claude");
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
  const row = report.sessions.find((s) => s.id === session!.id)!;
  expect(row.tokens).not.toBe("unknown");
  expect(typeof row.tokens === "object" && row.tokens.output > 0).toBe(true);
}, 150_000);
