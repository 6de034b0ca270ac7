import { describe, expect, it } from "vitest";
import { createSession, readSessionOutput, sendCommand } from "../../controller/sessions/index.js";
import { getCommand } from "../../state/commands.repository.js";
import { listEvents } from "../../state/events.repository.js";
import { sessionFixture } from "../helpers/session-fixture.js";
import { waitFor } from "../helpers/temp.js";

describe("done only on evidence", () => {
  it("never takes the prompt's echo for a finished turn: no busy line and no turn-finished line leave it acknowledged", async () => {
    const f = await sessionFixture({ agentFlags: ["--echo-only"] });
    const s = await createSession(f.ctx, { task: "round-trip", agent: "scripted", worktree: f.dir });
    const command = await sendCommand(f.ctx, { sessionId: s.id, text: "append never.txt x" });
    expect(command.state).toBe("acknowledged");
    expect(f.prompts().map((p) => p.text)).toEqual(["append never.txt x"]);
    // The screen is a stable ready prompt under the echo; several reads find it idle, each time a finish check runs.
    for (let i = 0; i < 3; i++) {
      await waitFor(async () => ((await readSessionOutput(f.ctx, { sessionId: s.id })).status === "idle" ? true : undefined));
    }
    expect((await getCommand(f.ctx.db, command.id))!).toMatchObject({ state: "acknowledged", doneAt: null, busySeenAt: null });
    expect(await listEvents(f.ctx.db, { subject: `session/${s.id}/command/1`, action: "CommandDone" })).toEqual([]);
  });

  it("finishes on a turn-finished line after the echo, and records which evidence decided", async () => {
    const f = await sessionFixture();
    const s = await createSession(f.ctx, { task: "round-trip", agent: "scripted", worktree: f.dir });
    const done = await sendCommand(f.ctx, { sessionId: s.id, text: "sleep 600\nappend a.txt x", waitFor: "done" });
    expect(done.state).toBe("done");
    expect(["busy-then-ready", "turn-finished-line"]).toContain(done.evidence!.by);
    if (done.evidence!.by === "busy-then-ready") expect(done.busySeenAt).not.toBeNull();
    else expect(done.evidence).toMatchObject({ turnDone: "DONE 1" });
  });
});
