import { mkdirSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { hookCommand, hookDir, shellQuote } from "./agent-hooks.js";

/**
 * gemini-cli (0.61) hooks, per session, without editing the user's settings:
 * gemini reads a "system defaults" settings file named by the environment
 * variable GEMINI_CLI_SYSTEM_DEFAULTS_PATH (the lowest-priority scope; hook
 * lists of all scopes are concatenated, so the user's own hooks still run).
 * Two conditions of gemini's own: it ignores that file unless the file and
 * every directory above it belong to root and are not writable by group or
 * others (so: gaffer running as root, not under /tmp), and it runs hooks
 * only in a folder it trusts.
 */

/** gemini's hook events gaffer listens to: start, prompt submitted (with its text), turn over, notification. */
export const GEMINI_HOOK_EVENTS = ["SessionStart", "BeforeAgent", "AfterAgent", "Notification"] as const;

/** The environment variable gemini reads the per-session settings file from. */
export const GEMINI_SETTINGS_ENV = "GEMINI_CLI_SYSTEM_DEFAULTS_PATH";

/** Milliseconds gemini waits for one `gaffer hook` call (gemini's timeout unit is ms; the hook exits well before). */
const HOOK_TIMEOUT_MS = 10_000;

/** gemini's per-session settings: every lifecycle event calls `gaffer hook gemini EVENT`. */
export function geminiHookSettings(sessionId: string, controlDir: string): Record<string, unknown> {
  const hooks = Object.fromEntries(GEMINI_HOOK_EVENTS.map((event) => [event, [{ hooks: [{ name: `gaffer-${event}`, type: "command", command: shellQuote(hookCommand("gemini", event, sessionId, controlDir)), timeout: HOOK_TIMEOUT_MS }] }]]));
  return { hooks };
}

/**
 * Why gemini would ignore a settings file at `file`, or null. gemini 0.61 reads
 * a system settings file only when it and every directory above it belong to
 * root (uid 0) and are not writable by group or others: so only for a gaffer
 * running as root, with its control dir on such a path (symlinks followed).
 */
export function insecureSettingsPath(file: string, uid: number | undefined = process.getuid?.()): string | null {
  if (uid !== 0) return `gemini reads its system settings file only when root owns it, and gaffer runs as uid ${uid ?? "unknown"}`;
  for (let dir = dirname(resolve(file)); ; dir = dirname(dir)) {
    try {
      const { mode, uid: owner } = statSync(dir);
      if (owner !== 0) return `${dir} is not owned by root (uid ${owner})`;
      if ((mode & 0o022) !== 0) return `${dir} is writable by group or others (mode ${(mode & 0o7777).toString(8)})`;
    } catch {
      // Not created yet: its parent decides.
    }
    if (dirname(dir) === dir) return null;
  }
}

const usable = new Map<string, string | null>();

/** Whether gemini sessions of this control dir can report through hooks (memoized: the answer is about directory modes). */
export function geminiHooksBlocker(controlDir: string): string | null {
  const key = resolve(controlDir);
  if (!usable.has(key)) usable.set(key, insecureSettingsPath(join(hookDir(key, "session"), "gemini-settings.json")));
  return usable.get(key)!;
}

/** Extra environment that makes an agent report its lifecycle (gemini: its settings file; others take arguments, see agentHookArgs). */
export function agentHookEnv(profile: string | null, sessionId: string, controlDir: string | undefined): Record<string, string> {
  return profile === "gemini" && controlDir !== undefined ? geminiHookEnv(sessionId, controlDir) : {};
}

/**
 * The environment that makes a gemini session report its lifecycle: writes
 * `.gaffer/hooks/<session>/gemini-settings.json` (mode 600) and names it in
 * GEMINI_CLI_SYSTEM_DEFAULTS_PATH; empty when gemini would ignore the file.
 */
export function geminiHookEnv(sessionId: string, controlDir: string): Record<string, string> {
  if (geminiHooksBlocker(controlDir) !== null) return {};
  const dir = hookDir(controlDir, sessionId);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, "gemini-settings.json");
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(geminiHookSettings(sessionId, controlDir), null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
  return { [GEMINI_SETTINGS_ENV]: file };
}
