// Agent hosts: provision + session start over ssh (one sshd on 127.0.0.1, ControlMaster on) against the same
// on this machine. Each round creates a task worktree and starts the scripted agent in it until its ready
// screen; over ssh that includes the push of the base, the worktree on the host and tmux there.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { withAgentHosts } from "../../controller/app/host-world.js";
import { closeMaster } from "../../controller/adapters/ssh.js";
import { TmuxAdapter } from "../../controller/adapters/tmux.js";
import { ControlDir } from "../../controller/cli/context.js";
import type { ResolvedHost } from "../../controller/core/hosts.js";
import { closeSession, createSession, type SessionServiceContext } from "../../controller/sessions/index.js";
import { launchSshd } from "../helpers/sshd.js";

const ROUNDS = 6;

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const round = (n: number): number => Math.round(n * 100) / 100;

function writeControlDir(dir: string, socket: string): void {
  mkdirSync(join(dir, "manifests"), { recursive: true });
  const doc = (kind: string, name: string, spec: unknown): string => stringify({ apiVersion: "gaffer/v1", kind, metadata: { name }, spec });
  writeFileSync(join(dir, "manifests/project.yaml"), doc("Project", "bench", { repo: ".", tmuxSocket: socket, capacity: { global: 4 } }));
  writeFileSync(join(dir, "manifests/agents.yaml"), doc("AgentPool", "pool", { agents: [{ name: "scripted", profile: "scripted", capacity: 4, idleAfterMs: 150 }] }));
  writeFileSync(join(dir, "manifests/playbook.yaml"), doc("Playbook", "pb", { stages: [{ name: "build", approval: "none", roles: [{ name: "builder", allowedAgents: ["scripted"] }], gate: { commands: [["true"]] } }] }));
  writeFileSync(join(dir, "manifests/tasks.yaml"), doc("Task", "bench", { stage: "build", role: "builder", prompt: "bench" }));
  const git = (...args: string[]): void => void execFileSync("git", ["-C", dir, ...args], { stdio: "ignore" });
  git("init", "-q", "-b", "main");
  for (let i = 0; i < 50; i++) writeFileSync(join(dir, `file-${i}.txt`), `content ${i}\n`.repeat(20));
  git("add", ".");
  git("-c", "user.email=b@example.com", "-c", "user.name=b", "commit", "-q", "-m", "chore: bench repo");
}

/** One round: a worktree for a new task, then a session of the scripted agent in it until ready; closed after. */
async function provisionAndStart(ctx: SessionServiceContext, dir: string, task: string): Promise<number> {
  const start = performance.now();
  const worktree = join(dir, ".wt", task);
  execFileSync("git", ["-C", dir, "worktree", "add", "-q", "-b", `t/${task}`, worktree], { stdio: "ignore" });
  const session = await createSession(ctx, { task, agent: "scripted", worktree });
  const ms = performance.now() - start;
  await closeSession(ctx, session.id, "bench");
  return ms;
}

export async function benchHosts(): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), "gaffer-bench-hosts-"));
  const sshdDir = join(dir, "sshd");
  mkdirSync(sshdDir);
  process.env.GAFFER_SSH_CONFIG = join(sshdDir, "ssh_config");
  process.env.GAFFER_SSH_CONTROL_DIR = join(sshdDir, "cm");
  const sshd = await launchSshd(sshdDir);
  const socket = `gaffer-bench-hosts-${process.pid}`;
  writeControlDir(dir, socket);
  const host: ResolvedHost = sshd.host("bench-host", 4);
  const local = new TmuxAdapter({ socket });
  const control = new ControlDir(dir);
  try {
    const db = await control.openLedger();
    const base: SessionServiceContext = { db, tmux: local, limits: await control.limits(), actor: "bench", agents: await control.agents() };
    const routed = withAgentHosts({ tmux: local }, { hosts: [host], db });
    const remote: SessionServiceContext = { ...base, tmux: routed.tmux, hosts: routed.hosts!, limits: { ...base.limits, perHost: { [host.name]: 4 } } };
    const localMs: number[] = [];
    const sshMs: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      localMs.push(await provisionAndStart(base, dir, `local-${i}`));
      sshMs.push(await provisionAndStart(remote, dir, `ssh-${i}`));
    }
    // The first ssh round opens the shared connection and creates the clone: reported apart.
    const warm = sshMs.slice(1);
    return { provisionStartLocalMs: round(median(localMs)), provisionStartSshMs: round(median(warm)), provisionStartSshFirstMs: round(sshMs[0]!), provisionStartSshRatio: round(median(warm) / median(localMs)) };
  } finally {
    await control.close();
    await local.killServer();
    await new TmuxAdapter({ socket, host }).killServer().catch(() => undefined);
    await closeMaster(host);
    await sshd.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}
