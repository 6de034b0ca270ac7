import { describe, expect, it } from "vitest";
import type { StatusEvidence } from "../../controller/core/screen-status.js";
import { withHookAttention } from "../../controller/hooks/hook-attention.js";
import { hookKind, type AgentEvent } from "../../state/agent-events.repository.js";

let nextId = 1;
function event(name: string, extra: { reason?: string; payload?: Record<string, unknown> } = {}): AgentEvent {
  return { id: nextId++, sessionId: "s", agent: "claude", event: name, evidenceId: `claude/hook/${name}`, kind: hookKind(name), prompt: null, reason: extra.reason ?? null, transcriptPath: null, usage: null, payload: extra.payload ?? {}, receivedAt: "2026-01-01T00:00:00.000Z" };
}

const screen = (status: StatusEvidence["status"]): StatusEvidence => ({ status, ruleId: status === "unknown" ? null : `claude/${status}/1`, ruleKind: status === "idle" ? "ready" : status === "running" ? "busy" : null, matched: null, screenHash: "h", settling: false });
const permission = () => event("Notification", { reason: "Claude needs your permission", payload: { notification_type: "permission_prompt", message: "Claude needs your permission" } });

describe("claude's Notification hook as a waiting status", () => {
  it("a permission request after the prompt makes an idle or unknown screen waiting, on the agent's words", () => {
    for (const status of ["idle", "unknown", "waiting"] as const) {
      expect(withHookAttention(screen(status), [event("UserPromptSubmit"), permission()])).toEqual({ status: "waiting", ruleId: "claude/hook/Notification", ruleKind: "waiting", matched: "Claude needs your permission", screenHash: "h", settling: false });
    }
  });

  it("a busy or error screen wins (the person answered, or the agent failed), and so does any later lifecycle event", () => {
    expect(withHookAttention(screen("running"), [permission()])).toEqual(screen("running"));
    expect(withHookAttention(screen("error"), [permission()])).toEqual(screen("error"));
    expect(withHookAttention(screen("idle"), [permission(), event("Stop")])).toEqual(screen("idle"));
    expect(withHookAttention(screen("idle"), [permission(), event("UserPromptSubmit")])).toEqual(screen("idle"));
  });

  it("notifications that ask nothing change nothing: the idle reminder (typed or, in older versions, by its words) and auth success", () => {
    const idle = event("Notification", { reason: "Claude is waiting for your input", payload: { notification_type: "idle_prompt" } });
    const untypedIdle = event("Notification", { reason: "Claude is waiting for your input" });
    const auth = event("Notification", { reason: "Signed in", payload: { notification_type: "auth_success" } });
    for (const e of [idle, untypedIdle, auth]) expect(withHookAttention(screen("idle"), [event("Stop"), e])).toEqual(screen("idle"));
    // An untyped request from an older claude still counts.
    expect(withHookAttention(screen("idle"), [event("Notification", { reason: "Claude needs your permission to use Bash" })]).status).toBe("waiting");
    // gemini's tool permission notification asks too.
    expect(withHookAttention(screen("idle"), [event("Notification", { reason: "Allow shell command?", payload: { notification_type: "ToolPermission" } })]).status).toBe("waiting");
    // Events gaffer does not interpret are skipped over, not taken as the last word.
    expect(withHookAttention(screen("idle"), [permission(), event("PreToolUse")]).status).toBe("waiting");
  });
});
