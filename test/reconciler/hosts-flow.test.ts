import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pino from "pino";
import { expect, onTestFinished, test } from "vitest";
import { closeMaster } from "../../controller/adapters/ssh.js";
import { TmuxAdapter } from "../../controller/adapters/tmux.js";
import { resolveAgent } from "../../controller/core/agent-profiles.js";
import { capacityLimits } from "../../controller/core/capacity.js";
import { resolveHosts, type ResolvedHost } from "../../controller/core/hosts.js";
import { allAgents, findStage, resolveProject } from "../../controller/core/project-config.js";
import { planStage } from "../../controller/core/stage-plan.js";
import { loadManifestSet } from "../../controller/manifest/load.js";
import { runController } from "../../controller/reconciler/run-controller.js";
import { buildTaskEffects } from "../../controller/reconciler/task-effects.js";
import { formatStatusView } from "../../controller/cli/status.command.js";
import { buildReport, formatReport } from "../../controller/report/report.js";
import { buildStatusView } from "../../controller/status/status-view.js";
import { listEvents } from "../../state/events.repository.js";
import { openLedger } from "../../state/ledger.js";
import { git } from "../helpers/git-repo.js";
import { APPROVER, commitAs, flowFixture, MANIFEST_AUTHOR } from "../helpers/flow-fixture.js";
import { startSshd, type TestSshd } from "../helpers/sshd.js";
import { tempDir, waitFor } from "../helpers/temp.js";

const logger = pino({ level: process.env.GAFFER_TEST_LOG ?? "silent" });

function hostYaml(name: string, sshd: TestSshd, capacity: number): string {
  return `    - name: ${name}\n      ssh: root@127.0.0.1\n      port: ${sshd.port}\n      identityFile: ${sshd.identityFile}\n      capacity: ${capacity}\n      workdir: ${sshd.dir}/work\n`;
}

/** Approves the build plan up front, by a commit, as the controller (hosts included) will propose it. */
async function approveBuild(dir: string): Promise<void> {
  const set = await loadManifestSet(dir);
  const config = resolveProject(set.project, dir);
  const agents = allAgents(set).map(resolveAgent);
  const plan = planStage(set, config, agents, capacityLimits(config, agents, resolveHosts(set, dir)), findStage(set, "build")!);
  mkdirSync(join(dir, "status/stages"), { recursive: true });
  writeFileSync(join(dir, "status/stages/build.yaml"), `approvals:\n  - {requestId: ${plan.request!.id}, decision: approved}\n`);
  commitAs(dir, APPROVER, "chore(approval): approve build", "status/stages/build.yaml");
}

test("two agent hosts over ssh: tasks spread by host capacity, worktrees and sessions only under each host's workdir, branches merge here; a host's sshd killed mid-run is survived", async () => {
  const [a, b] = await Promise.all([startSshd(), startSshd()]);
  const log = join(tempDir("s1x-log-"), "prompts.jsonl");
  const tasks = { "add-a": "write a.txt <<<alpha\nsleep 4000\ncommit feat(add-a): add a", "add-b": "write b.txt <<<beta\nsleep 4000\ncommit feat(add-b): add b", "add-c": "write c.txt <<<gamma\nsleep 4000\ncommit feat(add-c): add c" };
  const { dir, target, socket } = flowFixture({ capacity: 3, buildTasks: tasks, agentEnv: { GAFFER_SCRIPTED_LOG: log } });
  appendFileSync(join(dir, "manifests/agents.yaml"), `  hosts:\n${hostYaml("host-a", a, 1)}${hostYaml("host-b", b, 2)}`);
  commitAs(dir, MANIFEST_AUTHOR, "feat: agent hosts", "manifests");
  await approveBuild(dir);
  const hosts = resolveHosts(await loadManifestSet(dir), dir);
  for (const host of hosts) {
    onTestFinished(async () => {
      await new TmuxAdapter({ socket, host }).killServer().catch(() => undefined);
      await closeMaster(host);
    });
  }
  const byName = new Map<string, ResolvedHost>(hosts.map((h) => [h.name, h]));
  const db = await openLedger(join(dir, ".gaffer/ledger.sqlite"));
  onTestFinished(() => db.destroy());
  const run = runController({ dir, logger, effects: buildTaskEffects, once: true });
  // Kill host-a's sshd (listener and connections) while a build agent works there, and bring it back after the loss was seen.
  const working = await waitFor(async () => {
    const row = await db.selectFrom("commands").innerJoin("sessions", "sessions.id", "commands.session_id").innerJoin("reservations", "reservations.id", "sessions.reservation_id")
      .select(["sessions.id", "sessions.task"]).where("reservations.host", "=", "host-a").where("sessions.task", "like", "add-%").where("commands.state", "=", "acknowledged").executeTakeFirst();
    return row;
  }, { timeoutMs: 120_000, intervalMs: 100, what: "a build prompt at work on host-a" });
  // Status names the host of the session and each host's slots in use.
  const view = await buildStatusView(dir, await loadManifestSet(dir), db);
  expect(view.tasks.find((t) => t.name === working.task)).toMatchObject({ host: "host-a", attach: `ssh -t -p ${a.port} -i ${a.identityFile} root@127.0.0.1 tmux -L ${socket} attach -t ${working.id}` });
  expect(view.hosts!.find((h) => h.name === "host-a")).toMatchObject({ ssh: `root@127.0.0.1:${a.port}`, capacity: 1, inUse: 1, sessions: [working.id] });
  expect(formatStatusView(view)).toMatch(/^HOST +SSH +IN USE +SESSIONS$/m);
  await a.kill();
  await waitFor(async () => ((await listEvents(db, { action: "HostUnreachable" })).length > 0 ? true : undefined), { timeoutMs: 30_000, what: "the lost host to be noticed" });
  await a.restart();
  await run;

  const stages = Object.fromEntries((await db.selectFrom("stages").select(["name", "phase"]).execute()).map((s) => [s.name, s.phase]));
  expect(stages).toEqual({ plan: "Passed", build: "Passed" });
  expect(git(target, "ls-tree", "--name-only", "main").split("\n").sort()).toEqual(["PLAN.md", "README.md", "a.txt", "app.txt", "b.txt", "c.txt"]);
  // Every session ran on a host, in the task's worktree under that host's workdir, and nowhere else.
  const sessions = await db.selectFrom("sessions").innerJoin("reservations", "reservations.id", "sessions.reservation_id").select(["sessions.task", "sessions.worktree", "reservations.host"]).execute();
  expect(new Set(sessions.map((s) => s.host))).toEqual(new Set(["host-a", "host-b"]));
  for (const s of sessions) {
    const host = byName.get(s.host!)!;
    expect(s.worktree).toBe(`${host.workdir}/worktrees/${s.task}`);
    // Merged: the worktree on its host is gone with its refs (worktreeRetention remove-after-merge), the clone stays.
    expect(existsSync(s.worktree)).toBe(false);
    expect(git(`${host.workdir}/repo.git`, "for-each-ref", `refs/gaffer/base/${s.task}`)).toBe("");
  }
  // Each host received (and its clone holds) only the work of its own sessions.
  for (const host of hosts) {
    const created = (await listEvents(db, { action: "SessionCreated" })).filter((e) => e.payload.host === host.name).map((e) => String(e.payload.worktree));
    expect(created.length).toBeGreaterThan(0);
    for (const path of created) expect(path.startsWith(`${host.workdir}/worktrees/`)).toBe(true);
  }
  // Host capacity held at every moment (host-a 1, host-b 2), and everything was released.
  const held = new Map<string, number>();
  const max = new Map<string, number>();
  const reservations = new Map((await db.selectFrom("reservations").select(["id", "host"]).execute()).map((r) => [r.id, r.host]));
  for (const e of await listEvents(db)) {
    const host = reservations.get(String(e.payload.reservation));
    if (host === undefined || host === null) continue;
    if (e.action === "CapacityReserved") held.set(host, (held.get(host) ?? 0) + 1);
    if (e.action === "CapacityReleased") held.set(host, (held.get(host) ?? 0) - 1);
    max.set(host, Math.max(max.get(host) ?? 0, held.get(host) ?? 0));
  }
  expect(max.get("host-a")).toBe(1);
  expect(max.get("host-b")).toBe(2);
  expect([...held.values()].every((n) => n === 0)).toBe(true);
  // The report shows each session's host and the hosts' utilization.
  const report = await buildReport(db);
  expect(new Set(report.sessions.map((s) => s.host))).toEqual(new Set(["host-a", "host-b"]));
  expect(report.hosts!.map((h) => h.host)).toEqual(["host-a", "host-b"]);
  expect(report.hosts!.reduce((n, h) => n + h.sessions, 0)).toBe(report.sessions.length);
  expect(formatReport(report)).toContain("== agent hosts (util = busy / lifetime of the sessions there)");
  // No prompt was sent twice: the agents received each task's prompt exactly once.
  const received = readFileSync(log, "utf8").trim().split("\n").map((l) => (JSON.parse(l) as { text: string }).text);
  for (const name of ["write-plan", ...Object.keys(tasks)]) expect(received.filter((t) => t.includes(name === "write-plan" ? "PLAN.md" : `${name.slice(4)}.txt`))).toHaveLength(1);
}, 300_000);
