import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkSessionHealth, createSession, readSessionOutput, sendCommand } from "../../controller/sessions/index.js";
import { listCommands } from "../../state/commands.repository.js";
import { listEvents } from "../../state/events.repository.js";
import { getSession } from "../../state/sessions.repository.js";
import { sessionFixture } from "../helpers/session-fixture.js";
import { waitFor } from "../helpers/temp.js";

describe("waiting, rate limits and stranded delivery", () => {
  it("reports waiting with the matched question, and an answer lets the agent continue", async () => {
    const f = await sessionFixture();
    const s = await createSession(f.ctx, { task: "round-trip", agent: "scripted", worktree: f.dir });
    const asked = await sendCommand(f.ctx, { sessionId: s.id, text: "ask Deploy to staging?\nappend answer.txt continued\ndone asked" });
    expect(asked.state).toBe("acknowledged");
    const waiting = await waitFor(async () => {
      const out = await readSessionOutput(f.ctx, { sessionId: s.id });
      return out.status === "waiting" ? out : undefined;
    });
    expect(waiting).toMatchObject({ rule: "scripted/waiting/1", matched: "? Deploy to staging? [y/n]", state: "Waiting" });
    const [changed] = await listEvents(f.ctx.db, { subject: `session/${s.id}`, action: "SessionStatusChanged" }).then((es) => es.filter((e) => e.payload.to === "waiting"));
    expect(changed!.payload).toMatchObject({ rule: "scripted/waiting/1", matched: "? Deploy to staging? [y/n]", screenHash: waiting.screenHash });
    expect(existsSync(join(f.dir, "answer.txt"))).toBe(false);

    const answer = await sendCommand(f.ctx, { sessionId: s.id, text: "y", waitFor: "done" });
    expect(answer.state).toBe("done");
    expect(readFileSync(join(f.dir, "answer.txt"), "utf8")).toBe("continued\n");
    expect((await listCommands(f.ctx.db, s.id)).map((c) => [c.seq, c.state])).toEqual([[1, "done"], [2, "done"]]);
    expect((await readSessionOutput(f.ctx, { sessionId: s.id, lines: 4 })).text).toBe("appended answer.txt\nSUMMARY: asked\nDONE 1\nscripted> ");
  });

  it("marks a command failed when the agent printed an error for it", async () => {
    const f = await sessionFixture();
    const s = await createSession(f.ctx, { task: "round-trip", agent: "scripted", worktree: f.dir });
    const failed = await sendCommand(f.ctx, { sessionId: s.id, text: "error disk full\nappend never.txt x", waitFor: "done" });
    expect(failed).toMatchObject({ state: "failed", summary: "ERROR: disk full" });
    expect(failed.evidence).toMatchObject({ error: "ERROR: disk full", rule: "scripted/ready/1" });
    const unknown = await sendCommand(f.ctx, { sessionId: s.id, text: "@planner do it", waitFor: "done" });
    expect(unknown).toMatchObject({ state: "failed", summary: "ERROR: unknown instruction @planner" });
  });

  it("backs off on a rate-limit line until the reset time it shows", async () => {
    const f = await sessionFixture();
    const s = await createSession(f.ctx, { task: "round-trip", agent: "scripted", worktree: f.dir });
    await sendCommand(f.ctx, { sessionId: s.id, text: "ratelimit 2" });
    const health = await waitFor(async () => {
      const h = await checkSessionHealth(f.ctx, s.id);
      return h.state === "Backoff" ? h : undefined;
    });
    const until = Date.parse((await getSession(f.ctx.db, s.id))!.backoffUntil!);
    expect(until - Date.now()).toBeGreaterThan(500);
    expect(until - Date.now()).toBeLessThan(2500);
    expect(health.reason).toBe(`rate limited until ${new Date(until).toISOString()}`);
    const [event] = await listEvents(f.ctx.db, { subject: `session/${s.id}`, action: "SessionBackoff" });
    expect(event!.payload).toMatchObject({ rule: "scripted/rateLimit/1" });
    const next = await sendCommand(f.ctx, { sessionId: s.id, text: "done after backoff", waitFor: "done" });
    expect(Date.parse(next.typedAt!)).toBeGreaterThanOrEqual(until);
    expect((await waitFor(async () => ((await checkSessionHealth(f.ctx, s.id)).state === "Idle" ? true : undefined)))).toBe(true);
  });

  it("strands a command the agent never takes up, with the evidence", async () => {
    const f = await sessionFixture({ agentFlags: ["--ignore-enter"], timing: { enterRetryMs: 150, maxEnterRetries: 2 } });
    const s = await createSession(f.ctx, { task: "round-trip", agent: "scripted", worktree: f.dir });
    const stranded = await sendCommand(f.ctx, { sessionId: s.id, text: "done never" });
    expect(stranded.state).toBe("stranded");
    expect(stranded.evidence).toMatchObject({ reason: "no busy line or screen change after 3 Enter presses" });
    expect(String(stranded.evidence!.screenTail)).toContain("scripted> done never");
    const submits = await listEvents(f.ctx.db, { subject: `session/${s.id}/command/1`, action: "CommandSubmitted" });
    expect(submits.map((e) => e.payload.attempt)).toEqual([1, 2, 3]);
  });
});
