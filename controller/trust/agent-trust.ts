import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import type { ResolvedAgent } from "../core/agent-profiles.js";
import { AgentConfigError } from "../errors.js";

/** What `gaffer agents trust` does (or would do) for one agent. */
export interface TrustChange {
  readonly agent: string;
  readonly profile: string | null;
  /** The agent's own configuration file (in its HOME: the AgentPool's `env.HOME`, else yours). */
  readonly file: string | null;
  /** The folder trusted: gaffer's worktree root. */
  readonly folder: string;
  /** `add`: trust is recorded (or would be, with --dry-run); `unchanged`: already trusted; `unsupported`: the agent offers no folder trust gaffer can record. */
  readonly action: "add" | "unchanged" | "unsupported";
  /** Why an agent is unsupported, or what was changed. */
  readonly note: string;
  /** The copy of the file before the change (null when nothing changed or the file did not exist). */
  readonly backup: string | null;
}

type ClaudeConfig = { projects?: Record<string, Record<string, unknown>> } & Record<string, unknown>;

/** An agent's JSON config file as an object ({} when absent); anything else is refused, the file left as it is. */
function readJsonObject(file: string, who: string): Record<string, unknown> {
  if (!existsSync(file)) return {};
  try {
    const value = JSON.parse(readFileSync(file, "utf8")) as unknown;
    if (value !== null && typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new AgentConfigError(`${file} is not a JSON object; fix or move it aside (${who} recreates it), then run \`gaffer agents trust\` again`);
}

const readClaudeConfig = (file: string): ClaudeConfig => readJsonObject(file, "claude") as ClaudeConfig;

/** Writes `text` to `file` atomically (temp file + rename), keeping the file's mode; backs the old file up first. */
function replaceFile(file: string, text: string): string | null {
  mkdirSync(dirname(file), { recursive: true });
  let backup: string | null = null;
  if (existsSync(file)) {
    backup = `${file}.gaffer-backup-${new Date().toISOString().replace(/[:.]/g, "-")}`;
    copyFileSync(file, backup);
  }
  const tmp = `${file}.gaffer-${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: existsSync(file) ? statSync(file).mode & 0o777 : 0o600 });
  renameSync(tmp, file);
  return backup;
}

function claudeChange(agent: ResolvedAgent, home: string, folder: string, apply: boolean): TrustChange {
  const file = join(home, ".claude.json");
  const config = readClaudeConfig(file);
  const base = { agent: agent.name, profile: agent.profile, file, folder };
  if (config.projects?.[folder]?.hasTrustDialogAccepted === true) return { ...base, action: "unchanged", note: "already trusted", backup: null };
  const next: ClaudeConfig = { ...config, projects: { ...config.projects, [folder]: { ...config.projects?.[folder], hasTrustDialogAccepted: true } } };
  const backup = apply ? replaceFile(file, `${JSON.stringify(next, null, 2)}\n`) : null;
  return { ...base, action: "add", note: `projects["${folder}"].hasTrustDialogAccepted = true (claude trusts the folders below it)`, backup };
}

const UNSUPPORTED: Readonly<Record<string, string>> = {};

/** codex's configuration file in an agent's environment. */
export function codexConfigFile(env: Readonly<Record<string, string>>): string {
  return join(env.CODEX_HOME ?? join(env.HOME ?? homedir(), ".codex"), "config.toml");
}

/** The folders a codex config.toml marks `trust_level = "trusted"` (`[projects."PATH"]` tables). */
export function codexTrustedFolders(toml: string): string[] {
  return [...toml.matchAll(/^\[projects\."([^"\n]+)"\]\s*\n\s*trust_level\s*=\s*"trusted"/gm)].map((m) => m[1]!);
}

function codexChange(agent: ResolvedAgent, folder: string, apply: boolean): TrustChange {
  const file = codexConfigFile(agent.env);
  const text = existsSync(file) ? readFileSync(file, "utf8") : "";
  const base = { agent: agent.name, profile: agent.profile, file, folder };
  if (codexTrustedFolders(text).includes(folder)) return { ...base, action: "unchanged", note: "already trusted", backup: null };
  if (text.includes(`[projects."${folder}"]`)) throw new AgentConfigError(`${file} has a [projects."${folder}"] table without trust_level = "trusted"; set it there yourself, gaffer does not rewrite your choice`);
  const next = `${text}${text === "" || text.endsWith("\n") ? "" : "\n"}\n[projects."${folder}"]\ntrust_level = "trusted"\n`;
  const backup = apply ? replaceFile(file, next) : null;
  return { ...base, action: "add", note: `[projects."${folder}"] trust_level = "trusted" (gaffer passes each worktree below it to codex as trusted, per session)`, backup };
}

/** gemini's trusted-folders file in an agent's environment (`GEMINI_CLI_TRUSTED_FOLDERS_PATH`, else `<GEMINI_CLI_HOME or HOME>/.gemini/trustedFolders.json`). */
export function geminiTrustFile(env: Readonly<Record<string, string>>): string {
  return env.GEMINI_CLI_TRUSTED_FOLDERS_PATH ?? join(env.GEMINI_CLI_HOME ?? env.HOME ?? homedir(), ".gemini", "trustedFolders.json");
}

function geminiChange(agent: ResolvedAgent, folder: string, apply: boolean): TrustChange {
  const file = geminiTrustFile(agent.env);
  const rules = readJsonObject(file, "gemini") as Record<string, unknown>;
  const base = { agent: agent.name, profile: agent.profile, file, folder };
  if (rules[folder] === "TRUST_FOLDER") return { ...base, action: "unchanged", note: "already trusted", backup: null };
  if (rules[folder] !== undefined) throw new AgentConfigError(`${file} has "${folder}": ${JSON.stringify(rules[folder])}; change it there yourself, gaffer does not rewrite your choice`);
  const backup = apply ? replaceFile(file, `${JSON.stringify({ ...rules, [folder]: "TRUST_FOLDER" }, null, 2)}\n`) : null;
  return { ...base, action: "add", note: `"${folder}": "TRUST_FOLDER" (gemini trusts the folders below it, and runs gaffer's hooks only in trusted folders)`, backup };
}

/**
 * Records trust for gaffer's worktree root in each agent's own configuration,
 * in the agent's environment (`env.HOME` from the AgentPool when set), once:
 * atomically (temp file + rename) with a timestamped backup of the old file.
 * With `apply: false` only reports what it would change.
 */
export function trustWorktreeRoot(agents: readonly ResolvedAgent[], folder: string, apply: boolean): TrustChange[] {
  const seen = new Set<string>();
  const changes: TrustChange[] = [];
  for (const agent of agents) {
    const home = agent.env.HOME ?? homedir();
    if (agent.profile === "claude") {
      const key = `claude\0${home}`;
      // Two agents sharing a HOME share its file: change it once.
      changes.push(seen.has(key) ? { ...claudeChange(agent, home, folder, false), action: "unchanged", note: "same file as above", backup: null } : claudeChange(agent, home, folder, apply));
      seen.add(key);
      continue;
    }
    if (agent.profile === "codex") {
      const key = `codex\0${codexConfigFile(agent.env)}`;
      changes.push(seen.has(key) ? { ...codexChange(agent, folder, false), action: "unchanged", note: "same file as above", backup: null } : codexChange(agent, folder, apply));
      seen.add(key);
      continue;
    }
    if (agent.profile === "gemini") {
      const key = `gemini\0${geminiTrustFile(agent.env)}`;
      changes.push(seen.has(key) ? { ...geminiChange(agent, folder, false), action: "unchanged", note: "same file as above", backup: null } : geminiChange(agent, folder, apply));
      seen.add(key);
      continue;
    }
    const none = agent.profile === "scripted" ? "needs no trust" : undefined;
    changes.push({ agent: agent.name, profile: agent.profile, file: null, folder, action: "unsupported", note: none ?? UNSUPPORTED[agent.profile ?? ""] ?? "no folder trust to record: this agent uses screen rules and asks on screen (reported as waiting)", backup: null });
  }
  return changes;
}
