// Real-agent figures: the real claude CLI against the local model server.
// For a session with gaffer's hooks and one without (screen rules only):
// prompt submitted (Enter) -> `acknowledged` in the ledger, and the turn's end
// (the model server sent its final answer) -> `done`. p50 and p99 (with few
// rounds p99 is the maximum) in ms.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { TmuxAdapter } from "../../controller/adapters/tmux.js";
import { ControlDir } from "../../controller/cli/context.js";
import { createSession, sendCommand, type SessionServiceContext } from "../../controller/sessions/index.js";
import { agentEnv, prepareClaudeHome } from "../helpers/agent-home.js";
import { startModelServer, type ModelServer } from "../helpers/model-server.js";

const ROUNDS = 5;
const CLAUDE = join(import.meta.dirname, "../../node_modules/.bin/claude");

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!);
}

function writeControlDir(dir: string, socket: string, home: string, server: ModelServer): void {
  mkdirSync(join(dir, "manifests"), { recursive: true });
  const doc = (kind: string, name: string, spec: unknown): string => stringify({ apiVersion: "gaffer/v1", kind, metadata: { name }, spec });
  const agent = { name: "claude", profile: "claude", capacity: 2, command: [CLAUDE, "--model", "{model}", "--permission-mode", "acceptEdits"], env: agentEnv(home, server.url) };
  writeFileSync(join(dir, "manifests/project.yaml"), doc("Project", "bench", { repo: ".", tmuxSocket: socket, capacity: { global: 4 } }));
  writeFileSync(join(dir, "manifests/agents.yaml"), doc("AgentPool", "pool", { agents: [agent] }));
  writeFileSync(join(dir, "manifests/playbook.yaml"), doc("Playbook", "pb", { stages: [{ name: "build", approval: "none", roles: [{ name: "builder", allowedAgents: ["claude"] }], gate: { commands: [["true"]] } }] }));
  writeFileSync(join(dir, "manifests/tasks.yaml"), doc("Task", "bench", { stage: "build", role: "builder", prompt: "bench" }));
}

/** One session, ROUNDS prompts: submitted -> acknowledged, and final answer -> done (ms each). */
async function measure(ctx: SessionServiceContext, server: ModelServer, worktree: string, label: string): Promise<{ ack: number[]; done: number[]; ackBy: string[] }> {
  const session = await createSession(ctx, { task: `bench-${label}`, agent: "claude", worktree });
  const ack: number[] = [];
  const done: number[] = [];
  const ackBy: string[] = [];
  for (let i = 1; i <= ROUNDS; i++) {
    const command = await sendCommand(ctx, { sessionId: session.id, text: `Round ${i} of the ${label} bench: answer briefly.`, waitFor: "done", timeoutMs: 120_000 });
    if (command.state !== "done") throw new Error(`bench ${label} round ${i}: command ${command.state}`);
    const acked = await ctx.db.selectFrom("events").select("payload").where("subject", "=", `session/${session.id}/command/${command.seq}`).where("action", "=", "CommandAcknowledged").executeTakeFirstOrThrow();
    ackBy.push(String((JSON.parse(acked.payload) as { rule?: string; by?: string }).rule ?? "screen"));
    ack.push(Date.parse(command.acknowledgedAt!) - Date.parse(command.submittedAt!));
    const final = server.requests.filter((r) => r.answer === "final" && r.at <= Date.parse(command.doneAt!)).pop()!;
    done.push(Date.parse(command.doneAt!) - final.at);
  }
  return { ack, done, ackBy };
}

/** Prompt acknowledgement and turn-end detection for the real claude, via its hooks vs via its screen. */
export async function benchAgents(): Promise<Record<string, number>> {
  const root = mkdtempSync(join(tmpdir(), "gaffer-bench-agents-"));
  const server = await startModelServer([{ text: "Ok." }]);
  const tmux = new TmuxAdapter({ socket: `gaffer-bench-agents-${process.pid}` });
  try {
    const home = join(root, "home");
    const dir = join(root, "control");
    const worktree = join(root, "work");
    for (const d of [home, dir, worktree]) mkdirSync(d);
    prepareClaudeHome(home, { trusted: [worktree] });
    writeControlDir(dir, tmux.socket, home, server);
    const control = new ControlDir(dir);
    const base = { db: await control.openLedger(), tmux, limits: await control.limits(), actor: "bench", agents: await control.agents() };
    // With a control dir the session gets its hook settings; without, gaffer only reads the screen.
    const hooks = await measure({ ...base, controlDir: dir }, server, worktree, "hooks");
    const screen = await measure(base, server, worktree, "screen");
    await control.close();
    return {
      rounds: ROUNDS,
      ackViaHookP50Ms: percentile(hooks.ack, 50), ackViaHookP99Ms: percentile(hooks.ack, 99),
      ackViaScreenP50Ms: percentile(screen.ack, 50), ackViaScreenP99Ms: percentile(screen.ack, 99),
      doneViaHookP50Ms: percentile(hooks.done, 50), doneViaHookP99Ms: percentile(hooks.done, 99),
      doneViaScreenP50Ms: percentile(screen.done, 50), doneViaScreenP99Ms: percentile(screen.done, 99),
      hookAcksByHook: hooks.ackBy.filter((r) => r.includes("/hook/")).length,
    };
  } finally {
    for (const name of await tmux.listSessions()) await tmux.killSession(name);
    await tmux.killServer();
    await server.close();
    rmSync(root, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
  }
}
