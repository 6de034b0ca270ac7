import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { AGENT_PROFILES } from "../../controller/core/agent-profiles.js";
import { countEchoes, readInputLine } from "../../controller/core/input-line.js";
import { classify } from "../../controller/core/screen-status.js";
import { stallOf } from "../../controller/core/session-stall.js";
import type { AgentProfileName } from "../../controller/core/manifest-types.js";

const SCREENS = fileURLToPath(new URL("../fixtures/screens/", import.meta.url));
const screen = (file: string): string => {
  const text = readFileSync(SCREENS + file, "utf8");
  return text.slice(text.indexOf("\n") + 1);
};
const PROMPT = "Add a function that adds two numbers";

describe("the input line, read from captured screens", () => {
  it.each([
    ["claude", "claude-idle-typed.txt", { kind: "text", content: PROMPT, ours: true }],
    ["claude", "claude-ready-captured.txt", { kind: "empty" }],
    ["codex", "codex-ready.txt", { kind: "empty" }],
    ["codex", "codex-idle-interrupted.txt", { kind: "empty" }],
    ["gemini", "gemini-idle-typed.txt", { kind: "text", content: PROMPT, ours: true }],
    ["gemini", "gemini-ready.txt", { kind: "empty" }],
    ["opencode", "opencode-idle-typed.txt", { kind: "unreadable" }],
  ] as const)("%s %s", (agent, file, expected) => {
    expect(readInputLine(screen(file), AGENT_PROFILES[agent as AgentProfileName], PROMPT)).toEqual(expected);
  });

  it("tells gaffer's text from someone else's, and counts echoes in the history", () => {
    const scripted = AGENT_PROFILES.scripted;
    expect(readInputLine("DONE 1\nscripted> ", scripted, "append a.txt x")).toEqual({ kind: "empty" });
    expect(readInputLine("scripted> append a.txt x", scripted, "append a.txt x")).toEqual({ kind: "text", content: "append a.txt x", ours: true });
    expect(readInputLine("scripted> write b <<EOF\nline\nEOF", scripted, "write b <<EOF\nline\nEOF")).toMatchObject({ kind: "text", ours: true });
    expect(readInputLine("scripted> rm -rf", scripted, "append a.txt x")).toEqual({ kind: "text", content: "rm -rf", ours: false });
    expect(readInputLine("❯ [Pasted text #1 +40 lines]", AGENT_PROFILES.claude, "long\ntext")).toMatchObject({ kind: "text", ours: true });
    expect(countEchoes("scripted> append a.txt x\nDONE 1\nscripted> append a.txt x\nDONE 2\nscripted> ", "append a.txt x")).toBe(2);
  });
});

describe("why a task needs a person, from captured screens", () => {
  it.each([
    ["claude", "claude-waiting-trust.txt", "NeedsTrust"],
    ["claude", "claude-waiting-login.txt", "NeedsLogin"],
    ["claude", "claude-waiting-permission.txt", "Question"],
    ["codex", "codex-waiting-trust.txt", "NeedsTrust"],
    ["codex", "codex-waiting-signin.txt", "NeedsLogin"],
    ["codex", "codex-waiting-signin-browser.txt", "NeedsLogin"],
    ["codex", "codex-waiting-signin-other.txt", "NeedsLogin"],
    ["codex", "codex-waiting-startup-warnings.txt", "Question"],
    ["gemini", "gemini-waiting-trust.txt", "NeedsTrust"],
    ["gemini", "gemini-waiting-auth.txt", "NeedsLogin"],
    ["opencode", "opencode-waiting-connect.txt", "NeedsLogin"],
    ["opencode", "opencode-waiting-apikey.txt", "NeedsLogin"],
  ] as const)("%s %s -> %s", (agent, file, reason) => {
    const profile = AGENT_PROFILES[agent as AgentProfileName];
    const seen = classify(screen(file), profile.rules, { stableForMs: 10_000, idleAfterMs: 2000, tailLines: profile.statusLines });
    const stall = stallOf({ agent: { ...profile, profile: agent }, status: seen.status, ruleId: seen.ruleId, matched: seen.matched, forMs: 0, attach: "tmux -L gaffer attach -t t-1" });
    expect(stall?.reason).toBe(reason);
    expect(stall?.message).toContain("attach with `tmux -L gaffer attach -t t-1`");
  });

  it("says exactly what to do when claude is not logged in, and waits stuckAfterMs before calling an error a stall", () => {
    const claude = { ...AGENT_PROFILES.claude, profile: "claude" };
    const login = stallOf({ agent: claude, status: "waiting", ruleId: "claude/waiting/4", matched: "Select login method:", forMs: 0, attach: "tmux -L gaffer attach -t t-1" });
    expect(login?.message).toBe('claude is not logged in ("Select login method:"): attach with `tmux -L gaffer attach -t t-1` and sign in (run /login), or set ANTHROPIC_API_KEY in the AgentPool env');
    const error = { agent: claude, status: "error" as const, ruleId: "claude/error/2", matched: "API Error: Unable to connect to API", attach: "x" };
    expect(stallOf({ ...error, forMs: 299_999 })).toBeNull();
    expect(stallOf({ ...error, forMs: 300_000 })?.reason).toBe("ConnectionError");
    expect(stallOf({ ...error, status: "unknown", ruleId: null, matched: null, forMs: 300_000 })?.reason).toBe("UnrecognizedScreen");
  });
});
