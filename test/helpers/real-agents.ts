import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { onTestFinished } from "vitest";
import { ControlDir } from "../../controller/cli/context.js";
import type { AgentSpec } from "../../controller/core/manifest-types.js";
import type { SessionServiceContext } from "../../controller/sessions/context.js";
import { agentEnv, prepareClaudeHome, prepareCodexHome } from "./agent-home.js";
import { controlDir, type ControlDirOptions } from "./control-dir.js";
import { startModelServer, type ModelServer, type ScriptedTurn } from "./model-server.js";
import { TmuxAdapter } from "../../controller/adapters/tmux.js";

/** The real CLIs installed as devDependencies. */
export const CLAUDE_BIN = fileURLToPath(new URL("../../node_modules/.bin/claude", import.meta.url));
export const CODEX_BIN = fileURLToPath(new URL("../../node_modules/.bin/codex", import.meta.url));

/** AgentPool entries that run the real claude and codex against the model server, in `home`. */
export function realAgentSpecs(home: string, server: ModelServer): AgentSpec[] {
  const env = agentEnv(home, server.url);
  return [
    { name: "claude", profile: "claude", capacity: 2, command: [CLAUDE_BIN, "--model", "{model}", "--permission-mode", "acceptEdits"], env },
    { name: "codex", profile: "codex", capacity: 2, command: [CODEX_BIN, "-m", "{model}", "--sandbox", "danger-full-access", "--ask-for-approval", "never"], models: ["scripted"], env },
  ];
}

export interface RealAgentFixture {
  readonly dir: string;
  readonly home: string;
  /** Folders the agents trust (worktrees are created below it). */
  readonly trustedRoot: string;
  readonly server: ModelServer;
  readonly ctx: SessionServiceContext;
}

/**
 * A control dir whose AgentPool runs the real claude and codex against a
 * local model server (`script`), in a temp HOME prepared so both reach their
 * prompt offline; folders under `trustedRoot` are trusted.
 */
export async function realAgentFixture(script: readonly ScriptedTurn[], options: Omit<ControlDirOptions, "agents"> & { readonly agentSpec?: (spec: AgentSpec) => AgentSpec } = {}): Promise<RealAgentFixture> {
  const server = await startModelServer(script);
  onTestFinished(() => server.close());
  // NOTE: the CLIs keep writing to their HOME for a moment after their session ends: the tmux server goes
  // first, then the files, with retries.
  const base = mkdtempSync(join(tmpdir(), "gaffer-real-"));
  const tmux = new TmuxAdapter({ socket: `gaffer-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}` });
  onTestFinished(async () => {
    for (const name of await tmux.listSessions()) await tmux.killSession(name);
    await tmux.killServer();
    rmSync(base, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
  });
  const home = join(base, "home");
  const trustedRoot = join(base, "trusted");
  mkdirSync(home);
  mkdirSync(trustedRoot);
  prepareClaudeHome(home, { trusted: [trustedRoot] });
  prepareCodexHome(home, server.url, { trusted: [trustedRoot] });
  const stages = options.stages ?? [{ name: "build", approval: "none" as const, roles: [{ name: "builder", count: 2, allowedAgents: ["claude", "codex"] }], gate: { commands: [["true"]] } }];
  const fixture = controlDir({ tasks: [{ name: "greet" }], ...options, stages, project: { tmuxSocket: tmux.socket, ...options.project }, agents: realAgentSpecs(home, server).map(options.agentSpec ?? ((spec) => spec)) });
  const control = new ControlDir(fixture.dir);
  onTestFinished(() => control.close());
  const ctx: SessionServiceContext = { db: await control.openLedger(), tmux, limits: await control.limits(), actor: "test", agents: await control.agents(), controlDir: fixture.dir };
  return { dir: fixture.dir, home, trustedRoot, server, ctx };
}
