import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createSession, readSessionOutput, sendCommand } from "../../controller/sessions/index.js";
import { git } from "../helpers/git-repo.js";
import { sessionFixture } from "../helpers/session-fixture.js";

describe("the scripted agent's instruction language", () => {
  it("writes, runs without a shell, commits, resolves conflicts, gives verdicts and reports bad instructions", async () => {
    const f = await sessionFixture();
    git(f.dir, "add", "-A");
    git(f.dir, "commit", "-q", "-m", "chore: manifests");
    writeFileSync(join(f.dir, "conflicted.txt"), "<<<<<<< HEAD\nours\n=======\ntheirs\n>>>>>>> branch\n");
    const s = await createSession(f.ctx, { task: "round-trip", agent: "scripted", worktree: f.dir });
    const send = async (text: string) => {
      const c = await sendCommand(f.ctx, { sessionId: s.id, text, waitFor: "done" });
      return { state: c.state, out: (await readSessionOutput(f.ctx, { sessionId: s.id, sinceMarker: `scripted> ${text.split("\n")[0]!}` })).text };
    };
    const work = await send("Please add the feature.\nwrite src/a.txt <<<alpha $(x)\nrun echo \"two words\" ;\nresolve conflicted.txt <<END\nmerged\nEND\ncommit feat: add a");
    expect(work.state).toBe("done");
    expect(readFileSync(join(f.dir, "src/a.txt"), "utf8")).toBe("alpha $(x)\n");
    expect(readFileSync(join(f.dir, "conflicted.txt"), "utf8")).toBe("merged\n");
    expect(git(f.dir, "log", "-1", "--format=%s")).toBe("feat: add a");
    expect(git(f.dir, "status", "--porcelain")).toBe("");
    const history = await f.tmux.capturePane(s.tmuxName, 200);
    expect(history).toContain("note: Please add the feature.\nwrote src/a.txt (11 bytes)\ntwo words ;\nran echo: exit 0\nresolved conflicted.txt (had conflict markers)\ncommitted ");
    expect((await send("verdict request-changes missing tests for a")).out).toBe("VERDICT: request-changes: missing tests for a\nDONE 2\nscripted> ");
    expect((await send("verdict approve")).out).toBe("VERDICT: approve\nDONE 3\nscripted> ");
    expect(await send("!rm -rf /")).toEqual({ state: "failed", out: "ERROR: unknown instruction !rm\nDONE 4\nscripted> " });
    expect(await send("sleep soon")).toEqual({ state: "failed", out: "ERROR: bad instruction: sleep soon\nDONE 5\nscripted> " });
    expect(await send("run false")).toEqual({ state: "failed", out: "ERROR: false exited 1\nDONE 6\nscripted> " });
  });
});
