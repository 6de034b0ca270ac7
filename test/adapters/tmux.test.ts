import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sessionNameFor, TmuxAdapter, validatePasteText, validateTmuxName } from "../../controller/adapters/tmux.js";
import { testTmux } from "../helpers/session-fixture.js";
import { tempDir, waitFor } from "../helpers/temp.js";

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("TmuxAdapter", () => {
  it("runs a session on its own socket: exact names, pane pid, capture, paste, Enter, dead status", async () => {
    const tmux = testTmux();
    const dir = tempDir();
    expect(await tmux.listSessions()).toEqual([]);
    await tmux.newSession({ name: "abcdef", cwd: dir, argv: ["cat"] });
    await tmux.newSession({ name: "exits", cwd: dir, argv: ["sh", "-c", "echo bye; exit 4"], env: { GAFFER_PROBE: "x" } });
    expect((await tmux.listSessions()).sort()).toEqual(["abcdef", "exits"]);
    expect(await tmux.hasSession("abcdef")).toBe(true);
    expect(await tmux.hasSession("abc")).toBe(false);
    expect(await tmux.paneState("abc")).toBeNull();
    const pane = (await tmux.paneState("abcdef"))!;
    expect(pane).toMatchObject({ dead: false, exitStatus: null });
    expect(pane.pid).toBeGreaterThan(1);
    await tmux.pasteText("abcdef", "line one\nline two");
    await tmux.sendEnter("abcdef");
    const screen = await waitFor(async () => {
      const text = await tmux.capturePane("abcdef", 10);
      // tty echo and cat's own output interleave; count occurrences, not lines.
      return text.split("line two").length === 3 ? text : undefined;
    });
    expect(screen.split("line one").length).toBe(3);
    expect(await tmux.capturePane("abcdef", 1)).toBe("line two");
    // NOTE: tmux can mark a pane dead (its pty closed) a moment before it has reaped the exit status.
    const dead = await waitFor(async () => {
      const pane = await tmux.paneState("exits");
      return pane?.dead === true && pane.exitStatus !== null ? pane : undefined;
    });
    expect(dead).toMatchObject({ dead: true, exitStatus: 4 });
    expect(await tmux.capturePane("exits", 50)).toContain("bye");
    expect(await tmux.snapshot("exits", 50)).toEqual({ pane: dead, screen: await tmux.capturePane("exits", 50) });
    expect(await tmux.snapshot("abc", 50)).toBeNull();
    expect(tmux.attachArgv("abcdef")).toEqual(["tmux", "-L", tmux.socket, "attach", "-t", "abcdef"]);
  });

  it("kills the pane's whole process group, even a child that ignores SIGHUP", async () => {
    const tmux = testTmux();
    const dir = tempDir();
    const pidFile = join(dir, "child.pid");
    await tmux.newSession({ name: "group", cwd: dir, argv: ["sh", "-c", `trap '' HUP; sleep 300 & echo $! > ${pidFile}; wait`] });
    const child = await waitFor(() => (existsSync(pidFile) && readFileSync(pidFile, "utf8").trim() !== "" ? Number(readFileSync(pidFile, "utf8")) : undefined));
    const leader = (await tmux.paneState("group"))!.pid;
    expect(await tmux.killSession("group")).toBe(true);
    await waitFor(() => (!alive(child) && !alive(leader) ? true : undefined), { timeoutMs: 3000 });
    expect(await tmux.killSession("group")).toBe(false);
  });

  it("never hands a one-element argv to a shell", async () => {
    const tmux = testTmux();
    const dir = tempDir();
    await tmux.newSession({ name: "single", cwd: dir, argv: [`echo hi; touch ${join(dir, "pwned")}`] });
    const dead = await waitFor(async () => {
      const pane = await tmux.paneState("single");
      return pane?.dead === true && pane.exitStatus !== null ? pane : undefined;
    });
    expect(dead.exitStatus).toBe(127);
    expect((await tmux.capturePane("single", 60)).split("\n")).toContain(`gaffer: cannot run echo hi; touch ${join(dir, "pwned")}: No such file or directory`);
    expect(existsSync(join(dir, "pwned"))).toBe(false);
  });

  it("kill-server on an absent server is quiet, and a bad socket name is refused", async () => {
    const tmux = testTmux();
    await tmux.killServer();
    expect(() => new TmuxAdapter({ socket: "../x" })).toThrow('tmux socket "../x" is not allowed');
  });
});

describe("names and texts", () => {
  const hostileNames = ["$(touch x)", "#(touch x)", "#{pane_pid}", "-t", "-", "a:b", "a.b", "a\nb", "a b", "a;b", "`id`", "a|b", "../x", "a'b", 'a"b', "", "x".repeat(64), "ünï", "a&b", "a>b", "*"];
  it.each(hostileNames)("refuses the session name %j with INVALID_NAME", (name) => {
    expect(() => validateTmuxName(name)).toThrow(`session name ${JSON.stringify(name)} is not allowed: use 1-63 letters, digits, "_" or "-", starting with a letter or digit (tmux formats, shell characters, ":" "." and newlines are refused)`);
    expect(() => sessionNameFor(name, "abc123")).toThrow(/^task name .* is not allowed/);
  });
  it("derives valid names from valid tasks", () => {
    expect(sessionNameFor("add-login", "a1b2c3")).toBe("add-login-a1b2c3");
    expect(sessionNameFor("x".repeat(63), "a1b2c3")).toBe(`${"x".repeat(55)}-a1b2c3`);
  });
  it("refuses control characters in texts (they could end a bracketed paste) and normalizes line ends", () => {
    expect(() => validatePasteText("ok\u001b[201~\rtouch x")).toThrow("the text contains control character 0x1b at offset 2; only printable text, tabs and newlines can be sent (escape sequences could act as keystrokes)");
    expect(() => validatePasteText("a\u0003")).toThrow("the text contains control character 0x03 at offset 1");
    expect(() => validatePasteText(" \n ")).toThrow("the text is empty; send something the agent can act on");
    expect(validatePasteText("a\r\nb\rc\td")).toBe("a\nb\nc\td");
  });
});
