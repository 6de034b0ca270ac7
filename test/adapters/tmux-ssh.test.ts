import { mkdirSync } from "node:fs";
import { pino } from "pino";
import { describe, expect, it, onTestFinished } from "vitest";
import { closeMaster } from "../../controller/adapters/ssh.js";
import { TmuxAdapter } from "../../controller/adapters/tmux.js";
import { WatchedTmux } from "../../controller/adapters/watched-tmux.js";
import { SCRIPTED_AGENT_PATH } from "../../controller/core/agent-profiles.js";
import { startSshd } from "../helpers/sshd.js";
import { tempDir, waitFor } from "../helpers/temp.js";

const socket = (): string => `s1x-ssh-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

describe("tmux on an agent host, over ssh (real sshd)", () => {
  it("starts the scripted agent there, reads its screen by notification, pastes a prompt and kills it", async () => {
    const sshd = await startSshd();
    const host = sshd.host("box-1");
    onTestFinished(() => closeMaster(host));
    const plain = new TmuxAdapter({ socket: socket(), host });
    onTestFinished(() => plain.killServer());
    const tmux = new WatchedTmux({ socket: plain.socket, host, logger: pino({ level: "silent" }) });
    onTestFinished(() => tmux.close());
    const cwd = `${host.workdir}/worktrees/t1`;
    mkdirSync(cwd, { recursive: true });
    // A text a shell would act on, as the agent's env: it must reach the agent verbatim, running nothing.
    const canary = `${sshd.dir}/canary`;
    await tmux.newSession({ name: "t1-abc", cwd, argv: [process.execPath, SCRIPTED_AGENT_PATH, "--model", "m", "--session", "t1-abc"], env: { NOTE: `$(touch ${canary}) 'q' ;` } });
    const ready = await waitFor(async () => {
      const snap = await tmux.snapshot("t1-abc", 10);
      return snap?.screen.includes("scripted>") === true ? snap : undefined;
    }, { what: "the remote agent's ready prompt" });
    expect(ready.pane).toMatchObject({ dead: false });
    expect(await plain.listSessions()).toEqual(["t1-abc"]);
    // Control mode streams over the same ssh connection: output wakes a waiter.
    const since = Date.now();
    const woke = tmux.nextChange("t1-abc", since, 20_000);
    await tmux.pasteText("t1-abc", "write hello.txt <<<it's here");
    await tmux.sendEnter("t1-abc");
    await woke;
    expect(Date.now() - since).toBeLessThan(15_000);
    await waitFor(async () => ((await tmux.snapshot("t1-abc", 20))?.screen.includes("DONE 1") ? true : undefined), { what: "DONE 1" });
    expect((await import("node:fs")).readFileSync(`${cwd}/hello.txt`, "utf8")).toBe("it's here\n");
    expect((await import("node:fs")).existsSync(canary)).toBe(false);
    expect(tmux.attachArgv("t1-abc").slice(0, 1)).toEqual(["ssh"]);
    expect(tmux.attachArgv("t1-abc").at(-1)).toBe(`tmux -L ${plain.socket} attach -t t1-abc`);
    expect(await tmux.killSession("t1-abc")).toBe(true);
    expect(await plain.hasSession("t1-abc")).toBe(false);
  });

  it("a lost host is HOST_UNREACHABLE, never a gone session", async () => {
    const sshd = await startSshd();
    const host = sshd.host("box-2");
    const tmux = new TmuxAdapter({ socket: socket(), host });
    onTestFinished(() => tmux.killServer().catch(() => undefined));
    mkdirSync(host.workdir, { recursive: true });
    await tmux.newSession({ name: "t2-abc", cwd: host.workdir, argv: ["cat"] });
    await sshd.kill();
    await expect(tmux.paneState("t2-abc")).rejects.toMatchObject({ code: "HOST_UNREACHABLE" });
    await expect(tmux.listSessions()).rejects.toMatchObject({ code: "HOST_UNREACHABLE" });
    await sshd.restart();
    // Back: the session ran on while the link was down.
    expect(await waitFor(async () => ((await tmux.hasSession("t2-abc")) ? true : undefined), { what: "the session after reconnecting" })).toBe(true);
    await closeMaster(host);
  });
});
