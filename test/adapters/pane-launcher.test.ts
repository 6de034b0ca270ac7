import { spawn } from "node:child_process";
import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { checkLaunch, encodeLaunchSpec, isLaunchOf, launchMismatch } from "../../controller/adapters/pane-launcher.js";
import { readProcess, zombieExit } from "../../controller/adapters/proc-info.js";
import { testTmux } from "../helpers/session-fixture.js";
import { tempDir, waitFor } from "../helpers/temp.js";

/** A real `sleep` in `cwd`, killed when the test ends. */
function sleeper(cwd: string): number {
  const child = spawn("sleep", ["30"], { cwd, stdio: "ignore" });
  onTestFinished(() => {
    child.kill("SIGKILL");
  });
  return child.pid!;
}

describe("the launch spec", () => {
  it("is hex fields joined by dots: nothing tmux or a shell could parse", () => {
    const encoded = encodeLaunchSpec({ cwd: "/w#(x);", argv: ["a;", "#{pane_id}", ""], env: { K: "v;" } });
    expect(encoded).toMatch(/^[0-9a-f.]+$/);
    expect(encoded.split(".").map((field) => Buffer.from(field, "hex").toString())).toEqual(["/w#(x);", "1", "K", "v;", "a;", "#{pane_id}", ""]);
  });

  it("refuses an empty command, a bad env name, NUL bytes and a spec too long for tmux", () => {
    expect(() => encodeLaunchSpec({ cwd: "/", argv: [] })).toThrow("the agent command is empty; set `command` in the AgentPool");
    expect(() => encodeLaunchSpec({ cwd: "/", argv: ["x"], env: { "A=B": "1" } })).toThrow('environment entry "A=B" is not allowed');
    expect(() => encodeLaunchSpec({ cwd: "/", argv: ["x", "a\0b"] })).toThrow("a NUL byte cannot be part of a directory or an argument");
    expect(() => encodeLaunchSpec({ cwd: "/", argv: ["x", "y".repeat(7000)] })).toThrow(/^the agent's directory, argv and env take 70\d\d bytes; at most 6000 fit through tmux/);
  });
});

describe("isLaunchOf", () => {
  const cases: ReadonlyArray<readonly [string[], string[], boolean]> = [
    [["node", "a.js", "--x"], ["node", "a.js", "--x"], true],
    // behind a #! interpreter, the program named by its path
    [["/usr/bin/env", "node", "/opt/bin/codex", "-m", "m"], ["codex", "-m", "m"], true],
    [["node", "/opt/bin/codex", "-m", "m"], ["codex", "-m", "m"], true],
    // a split or truncated argv never passes
    [["node", "agent.js", "--noop"], ["node", "agent.js", "--noop;", "run-shell", "touch x"], false],
    [["node", "agent.js"], ["node", "agent.js", "--model", "m;"], false],
    [["sh"], ["node"], false],
    [["node", "a.js", "--y"], ["node", "a.js", "--x"], false],
  ];
  it.each(cases)("%j is a launch of %j: %s", (observed, expected, result) => {
    expect(isLaunchOf(observed, expected)).toBe(result);
  });
});

describe("checkLaunch (against a real process)", () => {
  it("accepts the process that runs the argv in the real directory, a symlinked one included", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, "real"));
    symlinkSync(join(dir, "real"), join(dir, "link"));
    const pid = sleeper(join(dir, "real"));
    await waitFor(() => (readProcess(pid)?.argv[0] === "sleep" ? true : undefined));
    expect(await checkLaunch(pid, { cwd: join(dir, "link"), argv: ["sleep", "30"] })).toEqual({ ok: true });
  });

  it("refuses another directory or other arguments with LAUNCH_MISMATCH, naming both", async () => {
    const dir = tempDir();
    const pid = sleeper(dir);
    await waitFor(() => (readProcess(pid)?.argv[0] === "sleep" ? true : undefined));
    const other = await checkLaunch(pid, { cwd: "/", argv: ["sleep", "30"] });
    expect(other).toEqual({ ok: false, gone: false, argv: ["sleep", "30"], cwd: dir });
    const seen = { argv: ["sleep", "30"], cwd: dir };
    const error = launchMismatch("s1", { cwd: "/", argv: ["sleep", "30"] }, seen);
    expect(error.toLine()).toBe(`error: LAUNCH_MISMATCH: session s1 runs ["sleep","30"] in ${dir}, not ["sleep","30"] in /; it was killed before anything was sent. If the agent's command is a wrapper that re-executes with other arguments, point the AgentPool command at the real program`);
    expect(await checkLaunch(pid, { cwd: dir, argv: ["sleep", "31"] })).toMatchObject({ ok: false, gone: false });
    expect(await checkLaunch(2 ** 22 + 7, { cwd: dir, argv: ["sleep", "30"] })).toEqual({ ok: false, gone: true });
  });
});

describe("TmuxAdapter through the launcher", () => {
  it("the pane pid is the agent itself, with its cwd, argv, env and own exit status; the spec variable is gone", async () => {
    const tmux = testTmux();
    const dir = tempDir();
    const script = 'printf "%s|%s|%s\\n" "$PWD" "$GAFFER_LAUNCH" "$PROBE"; read line; exit 3';
    await tmux.newSession({ name: "probe", cwd: dir, argv: ["sh", "-c", script, "x;"], env: { PROBE: "p;q" } });
    const pane = (await tmux.paneState("probe"))!;
    expect(readProcess(pane.pid)).toEqual({ argv: ["sh", "-c", script, "x;"], cwd: dir });
    await waitFor(async () => ((await tmux.capturePane("probe", 60)).includes(`${dir}||p;q`) ? true : undefined));
    await tmux.pasteText("probe", "bye");
    await tmux.sendEnter("probe");
    const dead = await waitFor(async () => {
      const p = await tmux.paneState("probe");
      return p?.dead === true && p.exitStatus !== null ? p : undefined;
    });
    expect(dead).toEqual({ pid: pane.pid, dead: true, exitStatus: 3, signal: null });
  });

  it("an agent in a pane never inherits the variables that tell TUIs they run in CI; the AgentPool's env may still set them", async () => {
    const saved = { CI: process.env.CI, CI_JOB_ID: process.env.CI_JOB_ID, CONTINUOUS_INTEGRATION: process.env.CONTINUOUS_INTEGRATION };
    Object.assign(process.env, { CI: "true", CI_JOB_ID: "7", CONTINUOUS_INTEGRATION: "1", CIRCLE_NOT_CI: "kept" });
    onTestFinished(() => {
      for (const [key, value] of Object.entries(saved)) value === undefined ? delete process.env[key] : (process.env[key] = value);
      delete process.env.CIRCLE_NOT_CI;
    });
    const tmux = testTmux(); // its server starts with the variables above in its environment
    const script = 'printf "[%s|%s|%s|%s]\\n" "${CI-unset}" "${CI_JOB_ID-unset}" "${CONTINUOUS_INTEGRATION-unset}" "${CIRCLE_NOT_CI-unset}"; sleep 30';
    await tmux.newSession({ name: "inherited", cwd: tempDir(), argv: ["sh", "-c", script] });
    await tmux.newSession({ name: "explicit", cwd: tempDir(), argv: ["sh", "-c", script], env: { CI: "1" } });
    await waitFor(async () => ((await tmux.capturePane("inherited", 60)).includes("[unset|unset|unset|kept]") ? true : undefined), { what: "the inherited CI variables gone" });
    await waitFor(async () => ((await tmux.capturePane("explicit", 60)).includes("[1|unset|unset|kept]") ? true : undefined), { what: "the AgentPool's CI kept" });
  });

  it("a program that cannot be found ends the pane with 127 and a message naming it", async () => {
    const tmux = testTmux();
    await tmux.newSession({ name: "missing", cwd: tempDir(), argv: ["no-such-agent-h1", "--x"] });
    const dead = await waitFor(async () => {
      const p = await tmux.paneState("missing");
      return p?.dead === true && p.exitStatus !== null ? p : undefined;
    });
    expect(dead.exitStatus).toBe(127);
    expect((await tmux.capturePane("missing", 60)).split("\n")).toContain("gaffer: cannot run no-such-agent-h1: No such file or directory");
  });

  it("a signal that kills the agent is the pane's own dead signal", async () => {
    const tmux = testTmux();
    await tmux.newSession({ name: "killed", cwd: tempDir(), argv: ["sleep", "30"] });
    const pid = (await tmux.paneState("killed"))!.pid;
    process.kill(pid, "SIGTERM");
    const dead = await waitFor(async () => {
      const p = await tmux.paneState("killed");
      return p?.dead === true && p.signal !== null ? p : undefined;
    });
    expect(dead).toMatchObject({ pid, exitStatus: null, signal: 15 });
    expect(zombieExit(process.pid)).toBeNull();
  });
});
