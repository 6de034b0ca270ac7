import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { createSession } from "../../controller/sessions/create-session.js";
import { checkSessionHealth } from "../../controller/sessions/health.js";
import { sendCommand } from "../../controller/sessions/send-command.js";
import { readAgentEvents } from "../../state/agent-events.repository.js";
import { getCommand } from "../../state/commands.repository.js";
import { listEvents } from "../../state/events.repository.js";
import { getSession, readTaskStall } from "../../state/sessions.repository.js";
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

describe("the real claude CLI asking for a permission", () => {
  it("its Notification hook makes the session waiting on claude's own words: the task's stall names it, nothing is answered, the command never runs", async () => {
    const f = await realAgentFixture([{ when: "cleanup", run: "node -e \"require('fs').writeFileSync('ran.txt', 'ran')\"", text: "Cleaned up." }]);
    const worktree = join(f.trustedRoot, "wt");
    mkdirSync(worktree);
    git(worktree, "init", "-q", "-b", "main");
    const session = await createSession(f.ctx, { task: "greet", agent: "claude", worktree });
    const command = await sendCommand(f.ctx, { sessionId: session.id, text: "Run the cleanup command.", waitFor: "acknowledged", timeoutMs: 60_000 });
    expect(command.state).toBe("acknowledged");
    // The model asks for a Bash command; acceptEdits covers edits only, so claude asks the person and says so through its hook.
    const notice = await waitFor(async () => (await readAgentEvents(f.ctx.db, session.id)).find((e) => e.event === "Notification"), { timeoutMs: 30_000, what: "Notification hook" });
    expect(notice.payload).toMatchObject({ hook_event_name: "Notification", notification_type: "permission_prompt" });
    expect(notice.reason).toBe("Claude needs your permission");
    const waiting = await waitFor(async () => {
      await checkSessionHealth(f.ctx, session.id);
      const s = (await getSession(f.ctx.db, session.id))!;
      return s.statusRule === "claude/hook/Notification" ? s : undefined;
    }, { timeoutMs: 15_000, what: "session waiting on the hook" });
    expect(waiting).toMatchObject({ state: "Waiting", status: "waiting", stallReason: "Question" });
    const attach = `tmux -L ${f.ctx.tmux.socket} attach -t ${session.tmuxName}`;
    expect(waiting.stallMessage).toBe(`claude asks a question ("${notice.reason}"): attach with \`${attach}\` and answer it`);
    // What `gaffer status` "waiting for" reads for the task.
    expect(await readTaskStall(f.ctx.db, "greet")).toMatchObject({ sessionId: session.id, reason: "Question", message: waiting.stallMessage });
    const [stalled] = await listEvents(f.ctx.db, { subject: `session/${session.id}`, action: "SessionStalled" });
    expect(stalled!.payload).toMatchObject({ reason: "Question", status: "waiting", rule: "claude/hook/Notification", matched: notice.reason });
    // Nothing answered the dialog: it is still on screen, the command did not run, the prompt is still in flight.
    expect(await f.ctx.tmux.capturePane(session.tmuxName, 50)).toMatch(/Do you want to proceed\?/);
    expect(existsSync(join(worktree, "ran.txt"))).toBe(false);
    expect((await getCommand(f.ctx.db, command.id))!.state).toBe("acknowledged");

    // The person answers (Enter on "1. Yes"): the command runs, claude reports the turn over, the wait is gone.
    await execa("tmux", ["-L", f.ctx.tmux.socket, "send-keys", "-t", `=${session.tmuxName}:`, "Enter"]);
    await waitFor(async () => ((await readAgentEvents(f.ctx.db, session.id)).some((e) => e.event === "Stop") ? true : undefined), { timeoutMs: 30_000, what: "Stop hook after the answer" });
    const after = await waitFor(async () => {
      await checkSessionHealth(f.ctx, session.id);
      const s = (await getSession(f.ctx.db, session.id))!;
      return s.status !== "waiting" && s.stallReason === null ? s : undefined;
    }, { timeoutMs: 15_000, what: "the wait cleared" });
    expect(after.statusRule).not.toBe("claude/hook/Notification");
    expect(readFileSync(join(worktree, "ran.txt"), "utf8")).toBe("ran");
  }, 90_000);
});
