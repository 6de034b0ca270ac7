import { execa } from "execa";
import { describe, expect, it, onTestFinished } from "vitest";
import { CONTROL_SESSION, TmuxControlClient } from "../../controller/adapters/tmux-control.js";
import { testTmux } from "../helpers/session-fixture.js";
import { tempDir, waitFor } from "../helpers/temp.js";

function startClient(socket: string): TmuxControlClient {
  const client = new TmuxControlClient({ socket });
  onTestFinished(() => client.close());
  return client;
}

describe("TmuxControlClient", () => {
  it("reports output and pane death of a watched session, by notification", async () => {
    const tmux = testTmux();
    const dir = tempDir();
    await tmux.newSession({ name: "agent1", cwd: dir, argv: ["cat"] });
    await tmux.newSession({ name: "quiet", cwd: dir, argv: ["cat"] });
    const client = startClient(tmux.socket);
    await client.start();
    expect(await client.watch("agent1")).toBe(true);
    expect(await client.watch("quiet")).toBe(true);
    expect(await client.watch("absent")).toBe(false);
    const outputs: string[] = [];
    const deaths: string[] = [];
    client.on("output", (session) => outputs.push(session));
    client.on("paneDead", (session) => deaths.push(session));
    await tmux.pasteText("agent1", "hello from the agent");
    await waitFor(() => (outputs.includes("agent1") ? true : undefined));
    expect(outputs).not.toContain("quiet");
    expect(client.lastOutputAt("agent1")).toBeGreaterThan(0);
    expect(client.lastOutputAt("quiet")).toBeUndefined();
    await tmux.newSession({ name: "exits", cwd: dir, argv: ["sh", "-c", "read x; exit 3"] });
    expect(await client.watch("exits")).toBe(true);
    await tmux.sendEnter("exits");
    await waitFor(() => (deaths.includes("exits") ? true : undefined), { timeoutMs: 5000 });
    expect(deaths).toEqual(["exits"]);
    // Killing a watched session through the plain adapter removes its window from the control session too.
    await tmux.killSession("exits");
    // The control session is gaffer's own: listings leave it out, and the agent sessions are unchanged.
    expect((await tmux.listSessions()).sort()).toEqual(["agent1", "quiet"]);
    expect(await tmux.hasSession(CONTROL_SESSION)).toBe(true);
    // Unwatched and killed, a session's window is gone from the control session too (its process ends).
    const pid = (await tmux.paneState("quiet"))!.pid;
    await tmux.killSession("quiet");
    await waitFor(() => {
      try {
        process.kill(pid, 0);
        return undefined;
      } catch {
        return true;
      }
    });
    const windows = await execa("tmux", ["-L", tmux.socket, "list-windows", "-t", `=${CONTROL_SESSION}`, "-F", "#{pane_id}"], { env: { ...process.env, TMUX: "" } });
    expect(windows.stdout.split("\n")).toHaveLength(2); // its own window and agent1's
  });

  it("reports a killed tmux server within 2 s", async () => {
    const tmux = testTmux();
    await tmux.newSession({ name: "agent2", cwd: tempDir(), argv: ["cat"] });
    const client = startClient(tmux.socket);
    await client.start();
    await client.watch("agent2");
    const exited: string[] = [];
    client.on("serverExited", (reason) => exited.push(reason));
    const killedAt = Date.now();
    await tmux.killServer();
    await waitFor(() => (exited.length > 0 ? true : undefined), { timeoutMs: 2000 });
    expect(Date.now() - killedAt).toBeLessThan(2000);
    expect(exited[0]).toMatch(/tmux control client (ended|exited)/);
  });

  it("reads a pane over the connection exactly as a tmux call does: unicode, tabs, a line that looks like the end of a block", async () => {
    const tmux = testTmux();
    const dir = tempDir();
    const script = "printf '%s\\n' 'héllo ✻ wörld' '%end 1 2 1' '%error 1 2 1' 'a\tb' '  ❯ 1. Yes'; read x";
    await tmux.newSession({ name: "screen1", cwd: dir, argv: ["sh", "-c", script] });
    const client = startClient(tmux.socket);
    await client.start();
    expect(await client.watch("screen1")).toBe(true);
    const direct = await waitFor(async () => {
      const snap = await tmux.snapshot("screen1", 10);
      return snap?.screen.includes("Yes") === true ? snap : undefined;
    });
    const viaControl = await client.snapshot("screen1", 10);
    expect(viaControl).toEqual(direct);
    expect(viaControl!.screen.split("\n")).toEqual(["héllo ✻ wörld", "%end 1 2 1", "%error 1 2 1", "a       b", "  ❯ 1. Yes"]);
    expect(viaControl!.pane).toMatchObject({ dead: false, exitStatus: null });
    // The connection still answers after those lines (they did not end a block early).
    expect((await client.snapshot("screen1", 2))!.screen).toBe("a       b\n  ❯ 1. Yes");
    expect(await client.snapshot("absent", 5)).toBeNull();
  });
});
