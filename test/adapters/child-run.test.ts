/**
 * The light child runner under the git adapter: whole output, exit codes,
 * stdin, a start failure and a signal, all as values (it never rejects);
 * and runGit's GitError built from them.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runChild } from "../../controller/adapters/child-run.js";
import { runGit } from "../../controller/adapters/git-run.js";
import { GitError } from "../../controller/errors.js";
import { tempDir } from "../helpers/temp.js";

describe("runChild", () => {
  it("collects stdout and stderr whole, with the exit code, and feeds stdin", async () => {
    const dir = tempDir("gaffer-child-");
    const script = join(dir, "echo.mjs");
    // 200 kB on stdout crosses many pipe buffers: nothing may be cut.
    writeFileSync(script, `let s = ""; process.stdin.on("data", (d) => (s += d)); process.stdin.on("end", () => { process.stdout.write(s.toUpperCase() + "x".repeat(200000)); process.stderr.write("to stderr\\n"); process.exitCode = 3; });`);
    const result = await runChild(process.execPath, [script], { cwd: dir, env: process.env, input: "héllo\n" });
    expect(result.exitCode).toBe(3);
    expect(result.failure).toBeNull();
    expect(result.stdout).toBe(`HÉLLO\n${"x".repeat(200000)}`);
    expect(result.stderr).toBe("to stderr\n");
  });

  it("answers a program that cannot start, and one killed by a signal, without throwing", async () => {
    const dir = tempDir("gaffer-child-");
    const missing = await runChild("gaffer-no-such-program", [], { cwd: dir, env: process.env });
    expect(missing).toEqual({ stdout: "", stderr: "", exitCode: null, failure: "spawn gaffer-no-such-program ENOENT" });
    const killed = await runChild(process.execPath, ["-e", "process.kill(process.pid, 'SIGTERM')"], { cwd: dir, env: process.env });
    expect(killed).toMatchObject({ exitCode: null, failure: "killed by SIGTERM" });
  });

  it("runGit turns a failure into GIT_FAILED naming command, cwd, exit code and git's first line", async () => {
    const dir = tempDir("gaffer-child-");
    const error = await runGit(dir, ["rev-parse", "HEAD"]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitError);
    expect((error as GitError).message).toBe(`git rev-parse HEAD failed in ${dir} (exit 128): fatal: not a git repository (or any of the parent directories): .git`);
    expect((error as GitError).details).toMatchObject({ command: ["git", "rev-parse", "HEAD"], cwd: dir, exitCode: 128 });
  });
});
