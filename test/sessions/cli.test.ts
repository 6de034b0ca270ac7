import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ControlDir } from "../../controller/app/control-dir.js";
import { createWorktrees } from "../../controller/app/workspace.js";
import { listCommands } from "../../state/commands.repository.js";
import { runGaffer } from "../helpers/cli.js";
import { sessionFixture, type SessionFixture } from "../helpers/session-fixture.js";
import { recordStagePhase } from "../helpers/stage-phase.js";
import { waitFor } from "../helpers/temp.js";

/** The build stage Running (as the controller records it) and the task's worktree: where its session starts. */
async function taskWorktree(f: SessionFixture): Promise<string> {
  await recordStagePhase(f.dir, "build", "Running");
  const ctx = new ControlDir(f.dir);
  try {
    return (await createWorktrees(ctx, { tasks: ["round-trip"] }))[0]!.worktree.path;
  } finally {
    await ctx.close();
  }
}

describe("gaffer session (CLI)", () => {
  it("creates, sends from a file, reads, lists, prints attach, closes twice, and refuses unknown ids", async () => {
    const f = await sessionFixture();
    const wt = await taskWorktree(f);
    const created = await runGaffer(["session", "create", "--task", "round-trip", "--agent", "scripted", "--dir", f.dir, "--json"]);
    expect(created.stderr).toBe("");
    const session = JSON.parse(created.stdout) as { id: string; tmuxName: string; role: string; stage: string; worktree: string };
    expect(session).toMatchObject({ role: "builder", stage: "build", worktree: wt });
    writeFileSync(join(f.dir, "prompt.txt"), "append log.txt one two\ndone appended");
    const sent = await runGaffer(["session", "send", session.id, "--file", join(f.dir, "prompt.txt"), "--wait", "done", "--dir", f.dir]);
    expect(sent).toMatchObject({ exitCode: 0, stdout: `command 1 to session ${session.id}: done` });
    expect(readFileSync(join(wt, "log.txt"), "utf8")).toBe("one two\n");
    const failed = await runGaffer(["session", "send", session.id, "error no disk", "--wait", "done", "--dir", f.dir]);
    expect(failed).toMatchObject({ exitCode: 1, stdout: `command 2 to session ${session.id}: failed (ERROR: no disk)`, stderr: `error: COMMAND_FAILED: command 2 failed in session ${session.id}: ERROR: no disk; \`gaffer session read ${session.id}\` shows the output` });
    const read = await runGaffer(["session", "read", session.id, "--lines", "3", "--dir", f.dir, "--json"]);
    expect(JSON.parse(read.stdout)).toMatchObject({ sessionId: session.id, text: "ERROR: no disk\nDONE 2\nscripted> ", rule: "scripted/ready/1" });
    const list = await runGaffer(["session", "list", "--dir", f.dir, "--json"]);
    expect((JSON.parse(list.stdout) as { id: string }[]).map((s) => s.id)).toEqual([session.id]);
    const attach = await runGaffer(["session", "attach", session.id, "--dir", f.dir]);
    expect(attach.stdout).toBe(`tmux -L ${f.socket} attach -t ${session.tmuxName}`);
    expect(await runGaffer(["session", "close", session.id, "--dir", f.dir])).toMatchObject({ exitCode: 0, stdout: `closed session ${session.id} and released its capacity slot` });
    const again = await runGaffer(["session", "close", session.id, "--dir", f.dir]);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toMatch(new RegExp(`^session ${session.id} was already closed at \\S+; nothing to do$`));
    expect(await runGaffer(["session", "send", "no-such-session", "hi", "--dir", f.dir])).toMatchObject({ exitCode: 1, stderr: 'error: SESSION_NOT_FOUND: no session "no-such-session"; `gaffer session list` shows the open ones' });
    expect(await runGaffer(["session", "read", session.id, "--dir", f.dir])).toMatchObject({ exitCode: 1, stderr: `error: SESSION_NOT_FOUND: session "${session.id}" is closed (closed on request); create a new one with \`gaffer session create\`` });
    expect((await runGaffer(["session", "send", session.id, "--dir", f.dir])).exitCode).toBe(2);
  });

  it("serializes two processes sending to one session: never interleaved, ledger order == pane order", async () => {
    const f = await sessionFixture();
    const wt = await taskWorktree(f);
    const created = await runGaffer(["session", "create", "--task", "round-trip", "--agent", "scripted", "--dir", f.dir, "--json"]);
    const { id } = JSON.parse(created.stdout) as { id: string };
    const texts = ["A", "B", "C"].map((k) => `append order.txt ${k}1\nsleep 150\nappend order.txt ${k}2\ndone prompt-${k}`);
    const results = await Promise.all(texts.map((text) => runGaffer(["session", "send", id, text, "--dir", f.dir])));
    for (const r of results) expect(r.exitCode, r.stderr).toBe(0);
    const commands = await waitFor(async () => {
      const all = await listCommands(f.ctx.db, id);
      await runGaffer(["session", "read", id, "--dir", f.dir]);
      return all.length === 3 && (await listCommands(f.ctx.db, id)).every((c) => c.state === "done") ? await listCommands(f.ctx.db, id) : undefined;
    });
    const ledgerOrder = commands.map((c) => c.text);
    expect([...ledgerOrder].sort()).toEqual(texts);
    expect(f.prompts().map((p) => p.text)).toEqual(ledgerOrder);
    const keys = ledgerOrder.map((t) => t[17]!);
    expect(readFileSync(join(wt, "order.txt"), "utf8")).toBe(keys.map((k) => `${k}1\n${k}2\n`).join(""));
    const pane = await f.tmux.capturePane(id, 500);
    const positions = keys.map((k) => pane.indexOf(`append order.txt ${k}1`));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(pane.match(/^DONE \d+$/gm)).toEqual(["DONE 1", "DONE 2", "DONE 3"]);
    for (let i = 0; i < 3; i++) {
      const block = pane.slice(positions[i], i < 2 ? positions[i + 1] : undefined);
      expect(block).toContain(`SUMMARY: prompt-${keys[i]}\nDONE ${i + 1}`);
    }
  });
});
