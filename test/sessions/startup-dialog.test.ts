import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { checkSessionHealth, createSession, sendCommand } from "../../controller/sessions/index.js";
import { listEvents } from "../../state/events.repository.js";
import { getSession, readTaskStall } from "../../state/sessions.repository.js";
import { sessionFixture } from "../helpers/session-fixture.js";
import { tempDir, waitFor } from "../helpers/temp.js";

/** What a person does at the keyboard (tmux send-keys on the test's own server). */
async function personTypes(socket: string, target: string, keys: readonly string[], literal = false): Promise<void> {
  await execa("tmux", ["-L", socket, "send-keys", "-t", `=${target}:`, ...(literal ? ["-l"] : []), ...keys]);
}

describe("start-up is its own phase", () => {
  it("types nothing while a trust dialog shows, stalls the task NeedsTrust, and delivers once a person answered, without a resume", async () => {
    const trustFile = join(tempDir(), "trusted-folders");
    const f = await sessionFixture({ agentFlags: ["--trust-file", trustFile] });
    const s = await createSession(f.ctx, { task: "round-trip", agent: "scripted", worktree: f.dir });
    expect(s).toMatchObject({ state: "Waiting", status: "waiting", stallReason: "NeedsTrust" });
    const attach = `tmux -L ${f.socket} attach -t ${s.tmuxName}`;
    expect(s.stallMessage).toBe(`scripted asks whether to trust the worktree folder ("? Do you trust the files in this folder? [y/n]"): attach with \`${attach}\` and answer it yourself (gaffer never answers a dialog for you)`);
    expect(await readTaskStall(f.ctx.db, "round-trip")).toMatchObject({ sessionId: s.id, reason: "NeedsTrust" });

    const sent = sendCommand(f.ctx, { sessionId: s.id, text: "append work.txt done", waitFor: "done" });
    const [held] = await waitFor(async () => {
      const events = await listEvents(f.ctx.db, { subject: `session/${s.id}/command/1`, action: "DeliveryHeld" });
      return events.length > 0 ? events : undefined;
    });
    expect(held!.payload).toMatchObject({ reason: "a dialog or question is on screen; nothing is typed into it", rule: "scripted/waiting/2", stall: "NeedsTrust" });
    // Several health rounds while the dialog shows: still nothing typed, nothing answered, the session alive.
    for (let i = 0; i < 3; i++) expect((await checkSessionHealth(f.ctx, s.id)).state).toBe("Waiting");
    expect(existsSync(trustFile)).toBe(false);
    expect(f.prompts()).toEqual([]);

    // The person answers the dialog themselves; the queued prompt then goes in, once.
    await personTypes(f.socket, s.tmuxName, ["y", "Enter"]);
    expect((await sent).state).toBe("done");
    expect(readFileSync(join(f.dir, "work.txt"), "utf8")).toBe("done\n");
    expect(readFileSync(trustFile, "utf8")).toBe(`${f.dir}\n`);
    const log = readFileSync(f.logFile, "utf8").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as Record<string, unknown>);
    // The dialog received exactly the person's keys; the prompt arrived once, after it.
    expect(log.filter((l) => "dialogInput" in l).map((l) => l.dialogInput).join("")).toBe("y\r");
    expect(log.filter((l) => "n" in l)).toEqual([{ n: 1, text: "append work.txt done" }]);
    const after = (await getSession(f.ctx.db, s.id))!;
    expect(after).toMatchObject({ restarts: 0, stallReason: null });
    const actions = (await listEvents(f.ctx.db, { subject: `session/${s.id}` })).map((e) => e.action);
    expect(actions).toContain("SessionStalled");
    expect(actions).toContain("SessionUnstalled");
    expect(actions.filter((a) => a.startsWith("SessionRestart"))).toEqual([]);
  });

  it("makes a screen no rule knows, held past stuckAfterMs, Stuck and Stalled with the evidence", async () => {
    const f = await sessionFixture({ agent: { stuckAfterMs: 1000 } });
    const s = await createSession(f.ctx, { task: "round-trip", agent: "scripted", worktree: f.dir });
    // Someone typed into the agent without submitting: its last line matches no rule.
    await personTypes(f.socket, s.tmuxName, ["half typed"], true);
    const stuck = await waitFor(async () => {
      const h = await checkSessionHealth(f.ctx, s.id);
      return h.state === "Stuck" ? h : undefined;
    });
    expect(stuck.reason).toMatch(/^unknown for \d+ ms$/);
    const session = (await getSession(f.ctx.db, s.id))!;
    expect(session.stallReason).toBe("UnrecognizedScreen");
    expect(session.stallMessage).toMatch(/^scripted has shown a screen no rule recognises for \d+ s: attach with `tmux -L \S+ attach -t \S+` to see it; the session is restarted by its restart policy$/);
    const [stalled] = await listEvents(f.ctx.db, { subject: `session/${s.id}`, action: "SessionStalled" });
    expect(stalled!.payload).toMatchObject({ reason: "UnrecognizedScreen", status: "unknown", rule: null });
    const [stuckEvent] = await listEvents(f.ctx.db, { subject: `session/${s.id}`, action: "SessionStuck" });
    expect(stuckEvent!.payload).toMatchObject({ status: "unknown", stall: "UnrecognizedScreen" });
  });
});
