/**
 * The hostile corpus for session start: no directory name, argv element, model
 * or env value reaches tmux's format or command parser or a shell. Every entry
 * asserts a canary file that must not appear and the pane's real cwd and argv
 * (from /proc).
 */
import { existsSync, mkdirSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readProcess } from "../../controller/adapters/proc-info.js";
import { createSession, closeSession } from "../../controller/sessions/index.js";
import { sessionFixture, testTmux } from "../helpers/session-fixture.js";
import { tempDir, waitFor } from "../helpers/temp.js";

/** Directory names (a worktreeRoot, a `--worktree`, a control dir's parent) that tmux would parse. */
const hostileDirs = (canary: string): string[] => [
  `wt#(touch ${canary})`,
  "wt#{pane_id}",
  "proj#Sx",
  "wt#S",
  "p;q",
  "w;",
  `w; run-shell "touch ${canary}"`,
  `w"; run-shell "touch ${canary}`,
  "w$(touch x)",
  "w #[fg=red] ~ %1",
];

/** Argv tails, model and env values that end in `;` or hold formats. */
const hostileArgs = (canary: string): string[] => ["--noop;", "run-shell", `touch ${canary}`, ";", `#(touch ${canary})`, "#{session_name}", "#S", "m;", "\\;", "-t", "=x:"];

describe("hostile directories, argv and env never reach tmux's parser", () => {
  it("starts every pane in the exact directory with the exact argv and env, running nothing else", async () => {
    const tmux = testTmux();
    const root = tempDir();
    const canary = join(root, "CANARY");
    const dirs = hostileDirs(canary);
    // A control dir under a hostile parent, with hostile worktree names below it.
    const paths = [...dirs.map((d) => join(root, d)), ...dirs.slice(0, 5).map((d) => join(root, "p;q", "control", ".gaffer", "worktrees", d)), join(root, "proj#Sx", "control", `wt#(touch ${canary})`)];
    const args = hostileArgs(canary);
    let n = 0;
    for (const [i, path] of paths.entries()) {
      mkdirSync(path, { recursive: true });
      const argv = ["sleep", "30"];
      const env = { HOSTILE: args[i % args.length]!, [`V${i}`]: `#(touch ${canary});` };
      await tmux.newSession({ name: `dir${i}`, cwd: path, argv, env });
      const pane = (await tmux.paneState(`dir${i}`))!;
      expect(readProcess(pane.pid), path).toEqual({ argv, cwd: realpathSync(path) });
      n++;
    }
    // The argv itself: every hostile element is passed through as one argument.
    const argv = ["sh", "-c", 'printf "%s|" "$@"; printf "%s\\n" "$HOSTILE"; sleep 30', "sh", ...args];
    await tmux.newSession({ name: "argv", cwd: join(root, "proj#Sx"), argv, env: { HOSTILE: `v; run-shell "touch ${canary}";` } });
    const pane = (await tmux.paneState("argv"))!;
    expect(readProcess(pane.pid)).toEqual({ argv, cwd: realpathSync(join(root, "proj#Sx")) });
    const screen = await waitFor(async () => {
      const text = await tmux.capturePane("argv", 60);
      return text.includes("run-shell \"touch") ? text : undefined;
    });
    expect(screen).toContain(`${args.join("|")}|v; run-shell "touch ${canary}";`);
    n += args.length + 1;
    expect(existsSync(canary)).toBe(false);
    expect((await tmux.listSessions()).length).toBe(paths.length + 1);
    console.log(`hostile tmux corpus (adapter): ${n} entries, ${paths.length} directories, ${args.length} argv elements, canary absent`);
  });

  it("the session service starts the scripted agent in a hostile worktree with a hostile model: exact cwd and argv", async () => {
    const f = await sessionFixture({ agent: { models: ["m;", "#(touch CANARY)"], env: { GAFFER_HOSTILE: "#(touch CANARY);" } } });
    const canary = join(f.dir, "CANARY");
    const cases = [
      { dir: join(f.dir, ".gaffer", "worktrees", "wt#(touch CANARY)"), model: "m;" },
      { dir: join(f.dir, ".gaffer", "worktrees", "p;q#S"), model: "#(touch CANARY)" },
    ];
    for (const c of cases) {
      mkdirSync(c.dir, { recursive: true });
      const session = await createSession(f.ctx, { task: "round-trip", agent: "scripted", model: c.model, worktree: c.dir });
      const seen = readProcess(session.panePid!)!;
      expect(seen.cwd).toBe(realpathSync(c.dir));
      expect(seen.argv).toEqual(session.argv);
      expect(seen.argv).toContain(c.model);
      await closeSession(f.ctx, session.id);
    }
    expect(existsSync(canary)).toBe(false);
    expect(existsSync(join(process.cwd(), "CANARY"))).toBe(false);
    console.log(`hostile tmux corpus (session service): ${cases.length} sessions, canary absent`);
  });
});
