// Session figures: prompt delivery (send until acknowledged) and read latency,
// each as a ratio to a bare tmux send-keys / capture-pane loop in the same run,
// and the time to start 20 scripted-agent sessions.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { stringify } from "yaml";
import { TmuxAdapter } from "../../controller/adapters/tmux.js";
import { ControlDir } from "../../controller/cli/context.js";
import { SCRIPTED_AGENT_PATH } from "../../controller/core/agent-profiles.js";
import { createSession, readSessionOutput, sendCommand, type SessionServiceContext } from "../../controller/sessions/index.js";

const ROUNDS = 15;
const STARTS = 20;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const round = (n: number): number => Math.round(n * 100) / 100;

function writeControlDir(dir: string, socket: string): void {
  mkdirSync(join(dir, "manifests"), { recursive: true });
  const doc = (kind: string, name: string, spec: unknown): string => stringify({ apiVersion: "gaffer/v1", kind, metadata: { name }, spec });
  writeFileSync(join(dir, "manifests/project.yaml"), doc("Project", "bench", { repo: ".", tmuxSocket: socket, capacity: { global: STARTS + 1 } }));
  writeFileSync(join(dir, "manifests/agents.yaml"), doc("AgentPool", "pool", { agents: [{ name: "scripted", profile: "scripted", capacity: STARTS + 1, idleAfterMs: 150 }] }));
  writeFileSync(join(dir, "manifests/playbook.yaml"), doc("Playbook", "pb", { stages: [{ name: "build", approval: "none", roles: [{ name: "builder", allowedAgents: ["scripted"] }], gate: { commands: [["true"]] } }] }));
  writeFileSync(join(dir, "manifests/tasks.yaml"), doc("Task", "bench", { stage: "build", role: "builder", prompt: "bench" }));
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

async function untilIdle(ctx: SessionServiceContext, id: string): Promise<void> {
  while ((await readSessionOutput(ctx, { sessionId: id, lines: 1 })).status !== "idle") await new Promise((r) => setTimeout(r, 20)); // poll until idle
}

/** Bare loop: send-keys the text and Enter, poll capture-pane until the agent shows it took it. */
async function bareSend(socket: string, name: string, text: string): Promise<void> {
  const tmux = (...args: string[]) => execa("tmux", ["-L", socket, ...args], { env: { ...process.env, TMUX: "" } });
  await tmux("send-keys", "-t", `=${name}:`, "-l", text);
  await tmux("send-keys", "-t", `=${name}:`, "Enter");
  for (;;) {
    const { stdout } = await tmux("capture-pane", "-p", "-t", `=${name}:`);
    if (stdout.includes(`SUMMARY: ${text.slice(5)}`)) return;
  }
}

async function deliveryFigures(ctx: SessionServiceContext, socket: string, id: string): Promise<Record<string, number>> {
  const bare: number[] = [];
  const gaffer: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    await untilIdle(ctx, id);
    bare.push(await time(() => bareSend(socket, id, `done bare-${i}`)));
    await untilIdle(ctx, id);
    gaffer.push(await time(() => sendCommand(ctx, { sessionId: id, text: `done gaffer-${i}` })));
  }
  return { deliveryBareMs: round(median(bare)), deliveryToAckMs: round(median(gaffer)), deliveryRatio: round(median(gaffer) / median(bare)) };
}

async function readFigures(ctx: SessionServiceContext, socket: string, id: string): Promise<Record<string, number>> {
  const bare: number[] = [];
  const gaffer: number[] = [];
  for (let i = 0; i < ROUNDS * 2; i++) {
    bare.push(await time(() => execa("tmux", ["-L", socket, "capture-pane", "-p", "-J", "-t", `=${id}:`, "-S", "-50"], { env: { ...process.env, TMUX: "" } })));
    gaffer.push(await time(() => readSessionOutput(ctx, { sessionId: id, lines: 50 })));
  }
  return { readBareMs: round(median(bare)), readMs: round(median(gaffer)), readRatio: round(median(gaffer) / median(bare)) };
}

/** Bare: 20 `tmux new-session` of the scripted agent at once, each polled with capture-pane until its ready prompt. */
async function bareStarts(socket: string, dir: string): Promise<void> {
  const tmux = (...args: string[]) => execa("tmux", ["-L", socket, ...args], { env: { ...process.env, TMUX: "" } });
  await Promise.all(
    Array.from({ length: STARTS }, async (_, i) => {
      const name = `bare-${i}`;
      await tmux("new-session", "-d", "-s", name, "-c", dir, "-x", "200", "-y", "50", "--", process.execPath, SCRIPTED_AGENT_PATH, "--model", "scripted-1", "--session", name);
      while (!(await tmux("capture-pane", "-p", "-t", `=${name}:`)).stdout.split("\n").some((l) => /^scripted> ?$/.test(l))) await new Promise((r) => setTimeout(r, 10)); // poll until ready
    }),
  );
}

export async function benchSessions(): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), "gaffer-bench-sessions-"));
  const socket = `gaffer-bench-${process.pid}`;
  const tmux = new TmuxAdapter({ socket });
  writeControlDir(dir, socket);
  const control = new ControlDir(dir);
  try {
    const ctx: SessionServiceContext = { db: await control.openLedger(), tmux, limits: await control.limits(), actor: "bench", agents: await control.agents() };
    const first = await createSession(ctx, { task: "bench", agent: "scripted", worktree: dir });
    const delivery = await deliveryFigures(ctx, socket, first.id);
    const read = await readFigures(ctx, socket, first.id);
    const bareStartMs = await time(() => bareStarts(socket, dir));
    const startMs = await time(() => Promise.all(Array.from({ length: STARTS }, () => createSession(ctx, { task: "bench", agent: "scripted", worktree: dir }))));
    return { ...delivery, ...read, start20SessionsMs: round(startMs), start20SessionsBareMs: round(bareStartMs), start20SessionsRatio: round(startMs / bareStartMs) };
  } finally {
    await control.close();
    await tmux.killServer();
    rmSync(dir, { recursive: true, force: true });
  }
}
