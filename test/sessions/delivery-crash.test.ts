import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createSession, sendCommand } from "../../controller/sessions/index.js";
import { listCommands } from "../../state/commands.repository.js";
import { listEvents } from "../../state/events.repository.js";
import { runGaffer } from "../helpers/cli.js";
import { sessionFixture } from "../helpers/session-fixture.js";

/** Where the delivering process is killed (-9), and what its successor must find on the screen. */
const KILLS = [
  { failpoint: "after-intent", stateLeft: "issued", finding: "absent" },
  { failpoint: "after-paste", stateLeft: "issued", finding: "in-input" },
  { failpoint: "after-typed", stateLeft: "typed", finding: "in-input" },
  { failpoint: "after-enter", stateLeft: "typed", finding: "submitted" },
] as const;

describe("exactly-once delivery across a kill -9 of the delivering process", () => {
  it.each(KILLS)("killed $failpoint: the restarted deliverer finds '$finding' and the agent gets the prompt once", async ({ failpoint, stateLeft, finding }) => {
    const f = await sessionFixture();
    const s = await createSession(f.ctx, { task: "round-trip", agent: "scripted", worktree: f.dir });
    // Not idempotent: a second copy would append twice.
    const first = "append log.txt first";
    const killed = await runGaffer(["session", "send", s.id, first, "--dir", f.dir], { env: { GAFFER_FAILPOINT: failpoint } });
    expect(killed.exitCode, killed.stderr).not.toBe(0);
    const [left] = await listCommands(f.ctx.db, s.id);
    expect(left).toMatchObject({ state: stateLeft, text: first });
    expect(left!.pasteIntent).toMatchObject({ input: "empty", echoes: 0 });

    // A new process takes over the queue: the dead deliverer's command first, then the next one.
    const second = await sendCommand(f.ctx, { sessionId: s.id, text: "append log.txt second", waitFor: "done" });
    expect(second.state).toBe("done");
    const commands = await listCommands(f.ctx.db, s.id);
    expect(commands.map((c) => c.state)).toEqual(["done", "done"]);
    expect(f.prompts().map((p) => p.text)).toEqual([first, "append log.txt second"]);
    expect(readFileSync(join(f.dir, "log.txt"), "utf8")).toBe("first\nsecond\n");
    const resumed = (await listEvents(f.ctx.db, { subject: `session/${s.id}/command/1` })).filter((e) => e.payload.resumed === true);
    expect(resumed.length).toBeGreaterThan(0);
    expect(resumed[0]!.payload.finding).toBe(finding);
    expect((await listEvents(f.ctx.db, { subject: `session/${s.id}/command/1`, action: "CommandPasting" })).length).toBe(finding === "absent" ? 2 : 1);
  });

  it("never pastes onto text someone else left in the input line", async () => {
    const f = await sessionFixture();
    const s = await createSession(f.ctx, { task: "round-trip", agent: "scripted", worktree: f.dir });
    const killed = await runGaffer(["session", "send", s.id, "append log.txt mine", "--dir", f.dir], { env: { GAFFER_FAILPOINT: "after-intent" } });
    expect(killed.exitCode).not.toBe(0);
    // Between the kill and the restart a person typed into the agent.
    await f.tmux.pasteText(s.tmuxName, "something else");
    const command = await sendCommand(f.ctx, { sessionId: s.id, text: "append log.txt mine", idempotencyKey: (await listCommands(f.ctx.db, s.id))[0]!.idempotencyKey });
    expect(command.state).toBe("stranded");
    expect(command.evidence).toMatchObject({ reason: "the agent's input line holds text gaffer did not type; it is never pasted onto or cleared", finding: "foreign", input: "something else" });
    expect(f.prompts()).toEqual([]);
    expect(await f.tmux.capturePane(s.tmuxName, 1)).toBe("scripted> something else");
  });
});
