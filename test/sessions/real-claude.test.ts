import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createSession } from "../../controller/sessions/create-session.js";
import { sendCommand } from "../../controller/sessions/send-command.js";
import { readAgentEvents } from "../../state/agent-events.repository.js";
import { git } from "../helpers/git-repo.js";
import { realAgentFixture } from "../helpers/real-agents.js";
import { waitFor } from "../helpers/temp.js";

describe("the real claude CLI, offline against the local model server", () => {
  it("reports its lifecycle through per-session hooks: acknowledged and done come from the hooks, the file is written, usage recorded", async () => {
    const f = await realAgentFixture([{ when: "greeting", write: { path: "hello.txt", content: "hello from claude" }, text: "Wrote hello.txt." }]);
    const worktree = join(f.trustedRoot, "wt");
    mkdirSync(worktree);
    git(worktree, "init", "-q", "-b", "main");
    const session = await createSession(f.ctx, { task: "greet", agent: "claude", worktree });
    expect(session.state).toBe("Idle");
    expect(session.argv).toContain("--settings");
    await waitFor(async () => ((await readAgentEvents(f.ctx.db, session.id)).some((e) => e.evidenceId === "claude/hook/SessionStart") ? true : undefined), { timeoutMs: 15_000, what: "SessionStart hook" });

    const command = await sendCommand(f.ctx, { sessionId: session.id, text: "Write the greeting file.", waitFor: "done", timeoutMs: 60_000 });
    expect(command.state).toBe("done");
    expect(command.evidence).toMatchObject({ by: "hook", rule: "claude/hook/Stop" });
    expect(command.summary).toBe("Wrote hello.txt.");
    expect(readFileSync(join(worktree, "hello.txt"), "utf8")).toBe("hello from claude");

    const events = await readAgentEvents(f.ctx.db, session.id);
    const submitted = events.find((e) => e.event === "UserPromptSubmit");
    expect(submitted?.prompt).toBe("Write the greeting file.");
    const ack = await f.ctx.db.selectFrom("events").select("payload").where("subject", "=", `session/${session.id}/command/${command.seq}`).where("action", "=", "CommandAcknowledged").executeTakeFirst();
    expect(ack === undefined ? null : JSON.parse(ack.payload)).toMatchObject({ by: "hook", rule: "claude/hook/UserPromptSubmit", hookEventId: submitted!.id });
    const stop = events.find((e) => e.event === "Stop")!;
    expect(stop.usage?.output).toBeGreaterThan(0);
    expect(stop.usage?.input).toBeGreaterThan(0);
    expect(existsSync(stop.transcriptPath!)).toBe(true);
    expect(f.server.requests.some((r) => r.answer === "tool")).toBe(true);
  }, 90_000);
});
