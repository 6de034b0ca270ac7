import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it, onTestFinished } from "vitest";
import { TmuxAdapter } from "../../controller/adapters/tmux.js";
import { ControlDir } from "../../controller/cli/context.js";
import { geminiHooksBlocker, GEMINI_SETTINGS_ENV } from "../../controller/hooks/gemini-hooks.js";
import { createSession } from "../../controller/sessions/create-session.js";
import { sendCommand } from "../../controller/sessions/send-command.js";
import type { SessionServiceContext } from "../../controller/sessions/context.js";
import { readAgentEvents } from "../../state/agent-events.repository.js";
import { controlDir } from "../helpers/control-dir.js";
import { git } from "../helpers/git-repo.js";
import { waitFor } from "../helpers/temp.js";

const GEMINI_BIN = fileURLToPath(new URL("../../node_modules/.bin/gemini", import.meta.url));

/**
 * NOTE: gemini ignores its per-session settings file unless root owns it and every directory above it and
 * none is writable by group or others (/tmp is): this test's control dir lives under ~/.cache (mode 700),
 * everything removed after. Run as root, the hooks are asserted; otherwise the screen fallback is.
 */
function secureBase(): string {
  const parent = join(homedir(), ".cache");
  mkdirSync(parent, { recursive: true });
  const base = mkdtempSync(join(parent, "gaffer-gemini-test-"));
  chmodSync(base, 0o700);
  onTestFinished(() => rmSync(base, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 }));
  return base;
}

describe("the real gemini CLI reports its lifecycle through per-session hooks", () => {
  it("a settings file named by GEMINI_CLI_SYSTEM_DEFAULTS_PATH (the user's settings untouched): SessionStart at start, the prompt acknowledged by BeforeAgent with its text", async () => {
    const base = secureBase();
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = base;
    onTestFinished(() => void (saved === undefined ? delete process.env.TMPDIR : (process.env.TMPDIR = saved)));
    const home = join(base, "home");
    const trustedRoot = join(base, "trusted");
    mkdirSync(join(home, ".gemini"), { recursive: true });
    const userSettings = `${JSON.stringify({ security: { auth: { selectedType: "gemini-api-key" } } })}\n`;
    writeFileSync(join(home, ".gemini", "settings.json"), userSettings);
    writeFileSync(join(home, ".gemini", "trustedFolders.json"), `${JSON.stringify({ [trustedRoot]: "TRUST_FOLDER" })}\n`);
    const worktree = join(trustedRoot, "wt");
    mkdirSync(worktree, { recursive: true });
    git(worktree, "init", "-q", "-b", "main");

    const tmux = new TmuxAdapter({ socket: `gaffer-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}` });
    onTestFinished(async () => {
      for (const name of await tmux.listSessions()) await tmux.killSession(name);
      await tmux.killServer();
    });
    const env = { HOME: home, GEMINI_API_KEY: "gaffer-test-fake-key", NO_COLOR: "" };
    const fixture = controlDir({ tasks: [{ name: "greet" }], stages: [{ name: "build", approval: "none", roles: [{ name: "builder", count: 1, allowedAgents: ["gemini"] }], gate: { commands: [["true"]] } }], project: { tmuxSocket: tmux.socket }, agents: [{ name: "gemini", profile: "gemini", capacity: 1, command: [GEMINI_BIN, "--model", "{model}"], env }] });
    expect(fixture.dir.startsWith(base)).toBe(true);
    const control = new ControlDir(fixture.dir);
    onTestFinished(() => control.close());
    const ctx: SessionServiceContext = { db: await control.openLedger(), tmux, limits: await control.limits(), actor: "test", agents: await control.agents(), controlDir: fixture.dir };

    const session = await createSession(ctx, { task: "greet", agent: "gemini", worktree });
    expect(session.state).toBe("Idle");
    const settingsFile = join(fixture.dir, ".gaffer", "hooks", session.id, "gemini-settings.json");
    // gemini reads the file only as root (see gemini-hooks.ts): elsewhere gaffer writes nothing and the session follows its screen.
    const blocker = geminiHooksBlocker(fixture.dir);
    console.log(`gemini hooks in this run: ${blocker ?? "usable (root-owned path)"}`);
    if (blocker !== null) {
      expect(existsSync(settingsFile)).toBe(false);
      const command = await sendCommand(ctx, { sessionId: session.id, text: "Write the greeting file.", waitFor: "acknowledged", timeoutMs: 30_000 });
      expect(command.evidence).toMatchObject({ by: expect.stringMatching(/^(busy|screen-change)$/) });
      expect(await readAgentEvents(ctx.db, session.id)).toEqual([]);
      return;
    }
    expect(existsSync(settingsFile)).toBe(true);
    expect(Object.keys((JSON.parse(readFileSync(settingsFile, "utf8")) as { hooks: object }).hooks)).toEqual(["SessionStart", "BeforeAgent", "AfterAgent", "Notification"]);
    const started = await waitFor(async () => (await readAgentEvents(ctx.db, session.id)).find((e) => e.evidenceId === "gemini/hook/SessionStart"), { timeoutMs: 20_000, what: "SessionStart hook" });
    expect(started.payload).toMatchObject({ hook_event_name: "SessionStart", cwd: worktree });

    const command = await sendCommand(ctx, { sessionId: session.id, text: "Write the greeting file.", waitFor: "acknowledged", timeoutMs: 30_000 });
    expect(command.state).toBe("acknowledged");
    const submitted = (await readAgentEvents(ctx.db, session.id)).find((e) => e.event === "BeforeAgent");
    expect(submitted).toMatchObject({ kind: "prompt-submitted", prompt: "Write the greeting file." });
    const ack = await ctx.db.selectFrom("events").select("payload").where("subject", "=", `session/${session.id}/command/${command.seq}`).where("action", "=", "CommandAcknowledged").executeTakeFirstOrThrow();
    expect(JSON.parse(ack.payload)).toMatchObject({ by: "hook", rule: "gemini/hook/BeforeAgent", hookEventId: submitted!.id });
    // The user's own settings are as they were; gaffer's hooks came from the file named in the session's env.
    expect(readFileSync(join(home, ".gemini", "settings.json"), "utf8")).toBe(userSettings);
    expect(GEMINI_SETTINGS_ENV).toBe("GEMINI_CLI_SYSTEM_DEFAULTS_PATH");
  }, 90_000);
});
