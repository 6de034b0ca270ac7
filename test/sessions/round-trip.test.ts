import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { closeSession, createSession, readSessionOutput, sendCommand } from "../../controller/sessions/index.js";
import { readCapacityUsage } from "../../state/capacity.repository.js";
import { listCommands } from "../../state/commands.repository.js";
import { listEvents } from "../../state/events.repository.js";
import { sessionFixture } from "../helpers/session-fixture.js";
import { tempDir, waitFor } from "../helpers/temp.js";

describe("session round trip with the scripted agent", () => {
  it("creates, delivers a hostile multi-line prompt verbatim, goes running -> idle, reads, closes and releases capacity", async () => {
    const f = await sessionFixture();
    const canary = join(tempDir(), "canary");
    const session = await createSession(f.ctx, { task: "round-trip", agent: "scripted", role: "builder", worktree: f.dir });
    expect(session).toMatchObject({ state: "Idle", agent: "scripted", model: "scripted-1", tmuxSocket: f.socket, worktree: f.dir });
    expect(session.id).toMatch(/^round-trip-[0-9a-f]{6}$/);
    expect(session.panePid).toBeGreaterThan(1);
    expect((await readCapacityUsage(f.ctx.db)).byAgent).toEqual({ scripted: 1 });

    const line = `a/b/c @main "double" 'single' $(touch ${canary}) #(touch ${canary}) \`touch ${canary}\` ; | & > < * ~`;
    // The agent stays busy 2.5 s: long enough for the read below to see it working on a loaded machine.
    const text = `write notes/out.txt <<EOF\n${line}\nEOF\nsleep 2500`;
    const command = await sendCommand(f.ctx, { sessionId: session.id, text });
    expect(command.state).toBe("acknowledged");
    expect(command.typedAt! <= command.submittedAt! && command.submittedAt! <= command.acknowledgedAt!).toBe(true);

    const running = await readSessionOutput(f.ctx, { sessionId: session.id });
    expect(running).toMatchObject({ status: "running", rule: "scripted/busy/1", matched: "Working..." });
    const idle = await waitFor(async () => {
      const out = await readSessionOutput(f.ctx, { sessionId: session.id, lines: 30 });
      return out.status === "idle" ? out : undefined;
    });
    expect(idle).toMatchObject({ rule: "scripted/ready/1", state: "Idle" });
    expect(idle.screenHash).toMatch(/^[0-9a-f]{16}$/);
    expect(idle.text).toContain(line);
    expect(idle.text).toContain("DONE 1");

    expect(readFileSync(join(f.dir, "notes/out.txt"), "utf8")).toBe(line + "\n");
    expect(f.prompts()).toEqual([{ n: 1, text }]);
    expect(existsSync(canary)).toBe(false);
    const [done] = await listCommands(f.ctx.db, session.id);
    expect(done).toMatchObject({ state: "done", seq: 1, text });
    const statuses = (await listEvents(f.ctx.db, { subject: `session/${session.id}`, action: "SessionStatusChanged" })).map((e) => e.payload.to);
    expect(statuses).toContain("running");
    expect(statuses.at(-1)).toBe("idle");

    const since = await readSessionOutput(f.ctx, { sessionId: session.id, sinceMarker: "sleep 2500" });
    expect(since.text.split("\n").map((l) => l.trim())).toEqual(["wrote notes/out.txt (" + Buffer.byteLength(line + "\n") + " bytes)", "slept 2500 ms", "DONE 1", "scripted>"]);

    const closed = await closeSession(f.ctx, session.id);
    expect(closed).toMatchObject({ closed: true, capacityReleased: true, message: `closed session ${session.id} and released its capacity slot` });
    expect(await f.tmux.hasSession(session.tmuxName)).toBe(false);
    expect((await readCapacityUsage(f.ctx.db)).global).toBe(0);
    const again = await closeSession(f.ctx, session.id);
    expect(again.closed).toBe(false);
    expect(again.message).toMatch(new RegExp(`^session ${session.id} was already closed at .+; nothing to do$`));
    await expect(sendCommand(f.ctx, { sessionId: session.id, text: "hello" })).rejects.toThrow(`session "${session.id}" is closed (closed on request); create a new one with \`gaffer session create\``);
    const actions = (await listEvents(f.ctx.db, { subject: `session/${session.id}` })).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(["SessionStarting", "SessionCreated", "CommandIssued", "CommandTyped", "CommandSubmitted", "CommandAcknowledged", "CommandDone", "SessionClosed"]));
  });
});
