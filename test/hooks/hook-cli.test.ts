import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { agentHookArgs, claudeHookSettings } from "../../controller/hooks/agent-hooks.js";
import { openLedger } from "../../state/ledger.js";
import { latestUsageBySession, readAgentEvents } from "../../state/agent-events.repository.js";
import { GAFFER_BIN } from "../helpers/cli.js";
import { tempDir } from "../helpers/temp.js";

async function hook(args: readonly string[], input?: string): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const r = await execa(process.execPath, [GAFFER_BIN, "hook", ...args], { input: input ?? "", reject: false });
  return { exitCode: r.exitCode ?? 1, stdout: r.stdout, stderr: r.stderr };
}

describe("gaffer hook", () => {
  it("appends claude's event with its prompt, and at Stop the token usage of its transcript (each message counted once), printing nothing", async () => {
    const dir = tempDir();
    const transcript = join(dir, "t.jsonl");
    const usage = { input_tokens: 100, output_tokens: 20, cache_read_input_tokens: 5, cache_creation_input_tokens: 7 };
    // claude writes one line per content block, each repeating its message's usage.
    writeFileSync(transcript, [
      JSON.stringify({ type: "user", message: { role: "user", content: "hi" } }),
      JSON.stringify({ type: "assistant", message: { id: "m1", usage } }),
      JSON.stringify({ type: "assistant", message: { id: "m1", usage } }),
      JSON.stringify({ type: "assistant", message: { id: "m2", usage: { input_tokens: 1, output_tokens: 2 } } }),
      "not json",
    ].join("\n"));
    const submit = await hook(["claude", "UserPromptSubmit", "--session", "s-1", "--dir", dir], JSON.stringify({ hook_event_name: "UserPromptSubmit", prompt: "Add a file", transcript_path: transcript }));
    expect(submit).toEqual({ exitCode: 0, stdout: "", stderr: "" });
    expect((await hook(["claude", "Stop", "--session", "s-1", "--dir", dir], JSON.stringify({ hook_event_name: "Stop", transcript_path: transcript, last_assistant_message: "Done." }))).exitCode).toBe(0);
    const db = await openLedger(join(dir, ".gaffer", "ledger.sqlite"));
    try {
      const events = await readAgentEvents(db, "s-1");
      expect(events.map((e) => [e.evidenceId, e.kind, e.prompt])).toEqual([["claude/hook/UserPromptSubmit", "prompt-submitted", "Add a file"], ["claude/hook/Stop", "turn-finished", null]]);
      expect(events[1]!.usage).toEqual({ input: 101, output: 22, cacheRead: 5, cacheWrite: 7 });
      expect(await readAgentEvents(db, "s-1", events[0]!.id)).toHaveLength(1);
      expect((await latestUsageBySession(db)).get("s-1")).toEqual({ input: 101, output: 22, cacheRead: 5, cacheWrite: 7 });
    } finally {
      await db.destroy();
    }
  });

  it("takes codex's notify payload as its last argument (event from its type, prompt from its input messages)", async () => {
    const dir = tempDir();
    const payload = JSON.stringify({ type: "agent-turn-complete", "thread-id": "t1", "input-messages": ["Add a file"], "last-assistant-message": "ok" });
    expect((await hook(["codex", "notify", payload, "--session", "s-2", "--dir", dir])).exitCode).toBe(0);
    const db = await openLedger(join(dir, ".gaffer", "ledger.sqlite"));
    try {
      const [event] = await readAgentEvents(db, "s-2");
      expect([event!.evidenceId, event!.kind, event!.prompt]).toEqual(["codex/hook/agent-turn-complete", "turn-finished", "Add a file"]);
    } finally {
      await db.destroy();
    }
  });

  it("never fails the agent: an unwritable ledger still exits 0, silently, and the failure is in .gaffer/hooks.log", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, ".gaffer", "ledger.sqlite"), { recursive: true }); // a directory where the ledger file should be
    const r = await hook(["claude", "Stop", "--session", "s-3", "--dir", dir], "{}");
    expect(r).toEqual({ exitCode: 0, stdout: "", stderr: "" });
    expect(readFileSync(join(dir, ".gaffer", "hooks.log"), "utf8")).toMatch(/claude Stop session=s-3: /);
  });

  it("generates per-session configuration only: a claude settings file under .gaffer/hooks/<session>/, codex a -c notify override", () => {
    const dir = tempDir();
    const home = join(dir, "home");
    mkdirSync(home);
    chmodSync(home, 0o500); // nothing may be written to the user's own settings
    const args = agentHookArgs("claude", "task-1-abc", dir);
    expect(args).toEqual(["--settings", join(dir, ".gaffer", "hooks", "task-1-abc", "claude-settings.json")]);
    const settings = JSON.parse(readFileSync(args[1]!, "utf8")) as ReturnType<typeof claudeHookSettings>;
    expect(Object.keys(settings.hooks as object)).toEqual(["SessionStart", "UserPromptSubmit", "Stop", "StopFailure", "Notification"]);
    expect(JSON.stringify(settings)).toContain(`'hook' 'claude' 'Stop' '--session' 'task-1-abc' '--dir' '${dir}'`);
    const codex = agentHookArgs("codex", "task-2-abc", dir);
    expect(codex[0]).toBe("-c");
    expect(codex[1]).toMatch(/^notify=\[".*", "hook", "codex", "notify", "--session", "task-2-abc", "--dir", ".*"\]$/);
    expect(agentHookArgs("opencode", "task-3-abc", dir)).toEqual([]);
    expect(existsSync(join(home, ".claude"))).toBe(false);
  });
});
