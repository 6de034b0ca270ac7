import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { onTestFinished } from "vitest";
import { TmuxAdapter } from "../../controller/adapters/tmux.js";
import { ControlDir } from "../../controller/cli/context.js";
import { SCRIPTED_AGENT_PATH } from "../../controller/core/agent-profiles.js";
import type { AgentSpec } from "../../controller/core/manifest-types.js";
import type { SessionServiceContext, SessionTiming } from "../../controller/sessions/context.js";
import { controlDir } from "./control-dir.js";

export interface SessionFixture {
  /** Control dir (also the target repo). */
  readonly dir: string;
  readonly socket: string;
  readonly tmux: TmuxAdapter;
  readonly ctx: SessionServiceContext;
  /** JSON lines the scripted agent logs per received prompt. */
  readonly logFile: string;
  /** Prompts the agent received, in order. */
  prompts(): { n: number; text: string }[];
}

export interface SessionFixtureOptions {
  /** Merged into the scripted agent's AgentPool entry. */
  readonly agent?: Partial<AgentSpec>;
  /** Extra scripted-agent flags (e.g. `--ignore-enter`). */
  readonly agentFlags?: readonly string[];
  readonly capacity?: number;
  readonly timing?: Partial<SessionTiming>;
}

/** A unique tmux socket for one test; its server is killed when the test finishes. */
export function testTmux(): TmuxAdapter {
  const tmux = new TmuxAdapter({ socket: `gaffer-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}` });
  onTestFinished(() => tmux.killServer());
  return tmux;
}

/**
 * A control dir whose Project points at a per-test tmux socket and whose
 * AgentPool runs the bundled scripted agent (short idle debounce, a prompt
 * log), plus a session-service context over its ledger.
 */
export async function sessionFixture(options: SessionFixtureOptions = {}): Promise<SessionFixture> {
  const tmux = testTmux();
  const fixture = controlDir({ commit: false });
  const logFile = join(fixture.dir, ".gaffer", "agent-prompts.jsonl");
  const command = [process.execPath, SCRIPTED_AGENT_PATH, "--model", "{model}", "--session", "{session}", "--log", logFile, ...(options.agentFlags ?? [])];
  const capacity = options.capacity ?? 4;
  fixture.rewrite({
    commit: false,
    project: { tmuxSocket: tmux.socket, capacity: { global: capacity } },
    tasks: [{ name: "round-trip" }],
    agents: [{ name: "scripted", profile: "scripted", capacity, idleAfterMs: 150, maxRestarts: 2, command, ...options.agent }],
  });
  const control = new ControlDir(fixture.dir);
  onTestFinished(() => control.close());
  const ctx: SessionServiceContext = { db: await control.openLedger(), tmux, limits: await control.limits(), actor: "test", agents: await control.agents(), ...(options.timing === undefined ? {} : { timing: options.timing }) };
  return {
    dir: fixture.dir,
    socket: tmux.socket,
    tmux,
    ctx,
    logFile,
    prompts: () => (existsSync(logFile) ? readFileSync(logFile, "utf8").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as { n: number; text: string }) : []),
  };
}
