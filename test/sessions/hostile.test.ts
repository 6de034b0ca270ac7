import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createSession, sendCommand } from "../../controller/sessions/index.js";
import { listCommands } from "../../state/commands.repository.js";
import { listSessions } from "../../state/sessions.repository.js";
import { runGaffer } from "../helpers/cli.js";
import { sessionFixture } from "../helpers/session-fixture.js";
import { tempDir } from "../helpers/temp.js";

describe("hostile names and texts: nothing is executed by tmux or a shell", () => {
  it("delivers hostile texts verbatim as inert data", async () => {
    const f = await sessionFixture();
    const canary = join(tempDir(), "canary");
    const texts = [
      `$(touch ${canary})`,
      `#(touch ${canary})`,
      "#{pane_pid} #{session_name} #[fg=red]",
      `\`touch ${canary}\``,
      `; touch ${canary}`,
      `| touch ${canary} && touch ${canary}`,
      "-t =other: send-keys -t other Enter",
      "C-c Enter Escape C-d",
      `'single' "double" \\backslash \\; ;`,
      "%1 %% ~root *glob? [a-z]",
      `note\n$(touch ${canary})\n#(touch ${canary})\nend`,
      "/clear @src/main.ts",
      `> ${canary}`,
      "${HOME} $PATH $$",
      "tab\there",
      "ünïcødé ✓ 🚀",
      "x".repeat(3000),
    ];
    const s = await createSession(f.ctx, { task: "round-trip", agent: "scripted", worktree: f.dir });
    for (const text of texts) expect((await sendCommand(f.ctx, { sessionId: s.id, text, waitFor: "done" })).state).toBe("done");
    expect(f.prompts().map((p) => p.text)).toEqual(texts);
    expect(existsSync(canary)).toBe(false);
    const pane = await f.tmux.capturePane(s.tmuxName, 2000);
    expect(pane).toContain("scripted> #{pane_pid} #{session_name} #[fg=red]\nDONE 3");
    expect(pane).toContain("note: ${HOME} $PATH $$");

    const viaCli = await runGaffer(["session", "send", s.id, `$(touch ${canary})`, "--wait", "done", "--dir", f.dir]);
    expect(viaCli.exitCode).toBe(0);
    expect(existsSync(canary)).toBe(false);
    const before = (await listCommands(f.ctx.db, s.id)).length;
    const escape = await runGaffer(["session", "send", s.id, "ok\u001b[201~\rtouch x", "--dir", f.dir]);
    expect(escape).toMatchObject({ exitCode: 1, stderr: "error: INVALID_TEXT: the text contains control character 0x1b at offset 2; only printable text, tabs and newlines can be sent (escape sequences could act as keystrokes)" });
    expect((await listCommands(f.ctx.db, s.id)).length).toBe(before);
  });

  it("refuses hostile task names before anything starts", async () => {
    const f = await sessionFixture();
    const canary = join(tempDir(), "canary");
    for (const task of [`$(touch ${canary})`, "#(id)", "#{pane_pid}", "-t", "a:b", "a.b", "a\nb"]) {
      await expect(createSession(f.ctx, { task, agent: "scripted", worktree: f.dir })).rejects.toMatchObject({ code: "INVALID_NAME", message: expect.stringMatching(/^task name .* is not allowed/) });
    }
    const cli = await runGaffer(["session", "create", "--task", `#(touch ${canary})`, "--agent", "scripted", "--dir", f.dir]);
    expect(cli.exitCode).toBe(1);
    expect(cli.stderr).toBe(`error: NOT_FOUND: no Task named "#(touch ${canary})" in the applied manifests (known: round-trip); \`gaffer get tasks\` lists them`);
    expect(existsSync(canary)).toBe(false);
    expect(await listSessions(f.ctx.db, { includeClosed: true })).toEqual([]);
    expect(await f.tmux.listSessions()).toEqual([]);
  });
});
