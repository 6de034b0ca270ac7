import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AgentProfileName } from "../core/manifest-types.js";
import { packagePath } from "../paths.js";
import { codexConfigFile, codexTrustedFolders } from "../trust/agent-trust.js";

/** claude's hook events gaffer listens to. */
export const CLAUDE_HOOK_EVENTS = ["SessionStart", "UserPromptSubmit", "Stop", "StopFailure", "Notification"] as const;

/** Seconds an agent waits for one `gaffer hook` call (it exits well before: see HOOK_BUDGET_MS). */
const HOOK_TIMEOUT_S = 10;

/** Where a session's generated hook configuration lives in the control dir. */
export function hookDir(controlDir: string, sessionId: string): string {
  return join(controlDir, ".gaffer", "hooks", sessionId);
}

/** The argv of one hook call: this gaffer, `hook AGENT EVENT --session ID --dir CONTROL_DIR`. */
export function hookCommand(agent: string, event: string, sessionId: string, controlDir: string): string[] {
  return [process.execPath, packagePath("controller", "gaffer.js"), "hook", agent, event, "--session", sessionId, "--dir", controlDir];
}

/** POSIX single-quoting: claude and gemini run hook commands through `sh -c`. */
export function shellQuote(parts: readonly string[]): string {
  return parts.map((p) => `'${p.replace(/'/g, `'\\''`)}'`).join(" ");
}

function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, file);
}

/** claude's per-session settings: every lifecycle event calls `gaffer hook claude EVENT`. */
export function claudeHookSettings(sessionId: string, controlDir: string): Record<string, unknown> {
  const hooks = Object.fromEntries(CLAUDE_HOOK_EVENTS.map((event) => [event, [{ hooks: [{ type: "command", command: shellQuote(hookCommand("claude", event, sessionId, controlDir)), timeout: HOOK_TIMEOUT_S }] }]]));
  return { hooks };
}

/**
 * The extra arguments that make an agent report its lifecycle to gaffer, for
 * this session only (the user's own settings files are never edited):
 * claude gets `--settings FILE` (a file under `.gaffer/hooks/<session>/`),
 * codex gets `-c notify=[...]` (its turn-complete notification). Other
 * agents have none: their sessions rely on screen rules alone.
 */
export function agentHookArgs(profile: AgentProfileName | null, sessionId: string, controlDir: string, launch: { readonly worktree: string; readonly env: Readonly<Record<string, string>> } | null = null): string[] {
  if (profile === "claude") {
    const dir = hookDir(controlDir, sessionId);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, "claude-settings.json");
    writeAtomic(file, `${JSON.stringify(claudeHookSettings(sessionId, controlDir), null, 2)}\n`);
    return ["--settings", file];
  }
  if (profile === "codex") {
    // A TOML array of basic strings: JSON string literals are valid TOML.
    const notify = ["-c", `notify=[${hookCommand("codex", "notify", sessionId, controlDir).map((p) => JSON.stringify(p)).join(", ")}]`];
    return [...notify, ...(launch === null ? [] : codexTrustArgs(launch.worktree, launch.env))];
  }
  return [];
}

/**
 * codex trusts only an exact folder, and each task's worktree is new: when the
 * person trusted a folder above it (`gaffer agents trust` records gaffer's
 * worktree root in codex's config.toml), the session's worktree is passed as
 * trusted for this invocation only (`-c projects={...}`, nothing written).
 */
export function codexTrustArgs(worktree: string, env: Readonly<Record<string, string>>): string[] {
  const file = codexConfigFile(env);
  const trusted = existsSync(file) ? codexTrustedFolders(readFileSync(file, "utf8")) : [];
  if (!trusted.some((root) => worktree.startsWith(`${root.replace(/\/+$/, "")}/`))) return [];
  return ["-c", `projects={ ${JSON.stringify(worktree)} = { trust_level = "trusted" } }`];
}
