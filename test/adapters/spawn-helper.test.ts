/**
 * The spawn helper that starts gaffer's short children (git) for it: the
 * child gets exactly the argv, directory, environment and stdin given, no
 * shell reads any of it, output of any size comes back whole, and start
 * failures, signals and a helper that dies are answers, never a hang. An
 * idle helper never keeps gaffer running, and ends with it.
 */
import { execFileSync, execFile } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { onTestFinished, describe, expect, it } from "vitest";
import { resolveProgram, runChild, type ChildResult } from "../../controller/adapters/child-run.js";
import { findPerl } from "../../controller/adapters/pane-launcher.js";
import { SpawnHelper } from "../../controller/adapters/spawn-helper.js";
import { tempDir, waitFor } from "../helpers/temp.js";
import { workerArgs } from "../helpers/worker-bundle.js";

function helper(): SpawnHelper {
  const started = new SpawnHelper(findPerl()!);
  onTestFinished(() => started.close());
  return started;
}

const ENV = { PATH: process.env.PATH ?? "/usr/bin:/bin" };

/** A request through a helper that is up (null, "nothing ran", fails the test). */
async function ran(h: SpawnHelper, ...request: Parameters<SpawnHelper["run"]>): Promise<ChildResult> {
  const result = await h.run(...request);
  if (result === null) throw new Error("the spawn helper did not start");
  return result;
}

describe("SpawnHelper", () => {
  it("gives the child its argv, directory, environment and stdin exactly, with no shell in between", async () => {
    const dir = tempDir("gaffer-spawn-test-");
    const canary = join(dir, "canary");
    const args = ["-e", "process.stdout.write(JSON.stringify({ argv: process.argv.slice(1), cwd: process.cwd(), env: process.env, stdin: require('fs').readFileSync(0, 'utf8') }))", `$(touch ${canary})`, `; touch ${canary} ;`, "a b\nc", "'\"`\\", "é", ""];
    const h = helper();
    const result = await ran(h, process.execPath, args, { cwd: dir, env: { ...ENV, GAFFER_X: "x y\nz $(touch canary)", EMPTY: "" }, input: "line one\nline two\n" });
    expect(result).toMatchObject({ exitCode: 0, failure: null, stderr: "" });
    const seen = JSON.parse(result.stdout) as { argv: string[]; cwd: string; env: Record<string, string>; stdin: string };
    expect(seen.argv).toEqual(args.slice(2));
    expect(seen.cwd).toBe(dir);
    expect(seen.env).toEqual({ ...ENV, GAFFER_X: "x y\nz $(touch canary)", EMPTY: "" });
    expect(seen.stdin).toBe("line one\nline two\n");
    expect(existsSync(canary)).toBe(false);
    // The next request's environment replaces this one whole, and one left out of a request is not inherited.
    const again = await ran(h, process.execPath, ["-e", "process.stdout.write(JSON.stringify(process.env))"], { cwd: dir, env: { OTHER: "1" } });
    expect(JSON.parse(again.stdout)).toEqual({ OTHER: "1" });
    const same = await ran(h, process.execPath, ["-e", "process.stdout.write(JSON.stringify(process.env))"], { cwd: dir, env: { ...ENV, OTHER: "1" } });
    expect(JSON.parse(same.stdout)).toEqual({ ...ENV, OTHER: "1" });
  });

  it("feeds 1 MB of stdin and brings back 2 MB of stdout and stderr whole, interleaved, with the exit code", async () => {
    const dir = tempDir("gaffer-spawn-test-");
    const h = helper();
    // The child writes to both pipes while stdin is still being fed: neither side may wait on the other.
    const script = "let n = 0; process.stdin.on('data', (d) => { n += d.length; process.stdout.write('o'.repeat(d.length)); process.stderr.write('é'); }); process.stdin.on('end', () => { process.stdout.write('o'.repeat(2e6 - n)); process.stderr.write(`|${n}`); process.exitCode = 3; })";
    const result = await ran(h, process.execPath, ["-e", script], { cwd: dir, env: ENV, input: "i".repeat(1e6) });
    expect(result.exitCode).toBe(3);
    expect(result.stdout).toBe("o".repeat(2e6));
    expect(result.stderr).toMatch(/^(é)+\|1000000$/);
    // A child that exits without reading its stdin: an answer, and the helper goes on.
    expect(await ran(h, process.execPath, ["-e", "process.stdout.write('a\\0b')"], { cwd: dir, env: ENV, input: "x".repeat(300_000) })).toEqual({ stdout: "a\0b", stderr: "", exitCode: 0, failure: null });
    expect(await ran(h, process.execPath, ["-e", "process.stdin.pipe(process.stdout)"], { cwd: dir, env: ENV, input: "" })).toMatchObject({ stdout: "", exitCode: 0 });
  });

  it("answers a missing program or directory as Node names it, and a signal by its name", async () => {
    const dir = tempDir("gaffer-spawn-test-");
    const h = helper();
    expect(await ran(h, "gaffer-no-such-program", [], { cwd: dir, env: ENV })).toEqual({ stdout: "", stderr: "", exitCode: null, failure: "spawn gaffer-no-such-program ENOENT" });
    expect(await ran(h, process.execPath, ["-e", "0"], { cwd: join(dir, "gone"), env: ENV })).toEqual({ stdout: "", stderr: "", exitCode: null, failure: `spawn ${process.execPath} ENOENT` });
    writeFileSync(join(dir, "not-executable"), "#!/bin/sh\n");
    expect((await ran(h, join(dir, "not-executable"), [], { cwd: dir, env: ENV })).failure).toBe(`spawn ${join(dir, "not-executable")} EACCES`);
    expect(await ran(h, process.execPath, ["-e", "process.kill(process.pid, 'SIGTERM')"], { cwd: dir, env: ENV })).toMatchObject({ exitCode: null, failure: "killed by SIGTERM" });
    // Still serving after all of them.
    expect(await ran(h, "git", ["--version"], { cwd: dir, env: ENV })).toMatchObject({ exitCode: 0, failure: null });
  });

  it("answers a request whose helper is killed mid-run", async () => {
    const dir = tempDir("gaffer-spawn-test-");
    const h = helper();
    const started = join(dir, "started");
    // The child runs until this test ends it (it outlives its helper): its pid in `started` says it is up.
    const running = h.run(process.execPath, ["-e", `require('fs').writeFileSync(${JSON.stringify(started)}, String(process.pid)); setInterval(() => {}, 1 << 30)`], { cwd: dir, env: ENV });
    expect(h.idle).toBe(false);
    const child = await waitFor(() => (existsSync(started) && readFileSync(started, "utf8").length > 0 ? Number(readFileSync(started, "utf8")) : undefined), { what: "the child to start" });
    onTestFinished(() => void process.kill(child, "SIGKILL"));
    const helperPid = execFileSync("pgrep", ["-f", "-P", String(process.pid), "gaffer-spawn-"], { encoding: "utf8" }).trim().split("\n").at(-1)!;
    process.kill(Number(helperPid), "SIGKILL");
    expect(await running).toEqual({ stdout: "", stderr: "", exitCode: null, failure: `spawn ${process.execPath}: the spawn helper exited while it ran` });
    expect(h.gone).toBe(true);
    expect(h.idle).toBe(false);
  });
  it("outlives a Ctrl-C to gaffer's process group, which still reaches the child; one killed while idle hands its next request back unrun", async () => {
    const dir = tempDir("gaffer-spawn-test-");
    const h = helper();
    expect(await ran(h, "git", ["--version"], { cwd: dir, env: ENV })).toMatchObject({ exitCode: 0 });
    const helperPid = Number(execFileSync("pgrep", ["-n", "-f", "-P", String(process.pid), "gaffer-spawn-"], { encoding: "utf8" }).trim());
    process.kill(helperPid, "SIGINT");
    process.kill(helperPid, "SIGQUIT");
    expect(await ran(h, "git", ["--version"], { cwd: dir, env: ENV })).toMatchObject({ exitCode: 0 });
    expect(await ran(h, process.execPath, ["-e", "process.kill(process.pid, 'SIGINT'); setInterval(() => {}, 1 << 30)"], { cwd: dir, env: ENV })).toMatchObject({ failure: "killed by SIGINT" });
    // Killed while idle, its end not yet seen: the request is handed back, nothing ran.
    const canary = join(dir, "canary");
    process.kill(helperPid, "SIGKILL");
    expect(await h.run(process.execPath, ["-e", `require('fs').writeFileSync(${JSON.stringify(canary)}, '')`], { cwd: dir, env: ENV })).toBeNull();
    expect(existsSync(canary)).toBe(false);
  });

  it("answers once the child has exited and its output closed, though a grandchild keeps the unread stdin open", async () => {
    const dir = tempDir("gaffer-spawn-test-");
    // The child reads none of its 200 kB: a background grandchild holds stdin (not stdout) and lives on.
    const result = await ran(helper(), "/bin/sh", ["-c", "exec 3<&0; sleep 60 <&3 >/dev/null 2>&1 & echo $!"], { cwd: dir, env: ENV, input: "x".repeat(200_000) });
    const grandchild = Number(result.stdout.trim());
    expect(result.exitCode).toBe(0);
    expect(existsSync(`/proc/${grandchild}`)).toBe(true);
    process.kill(grandchild, "SIGKILL");
  });

  it("hands a request back unrun when the helper ends before it is ready (a perl that cannot run it)", async () => {
    const dir = tempDir("gaffer-spawn-test-");
    const broken = new SpawnHelper("/bin/false");
    const canary = join(dir, "canary");
    expect(await broken.run(process.execPath, ["-e", `require('fs').writeFileSync(${JSON.stringify(canary)}, '')`], { cwd: dir, env: ENV })).toBeNull();
    expect(broken.gone).toBe(true);
    expect(existsSync(canary)).toBe(false);
  });
});

describe("runChild through the helpers", () => {
  it("runs every call to its end, concurrent ones on more helpers, and finds a program on PATH once", async () => {
    const dir = tempDir("gaffer-spawn-test-");
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => runChild(process.execPath, ["-e", `process.stdout.write(String(${i}))`], { cwd: dir, env: ENV })));
    expect(results.map((r) => r.stdout)).toEqual(["0", "1", "2", "3", "4", "5", "6", "7"]);
    // Eight at once: the helpers (at most four) each took one, the rest started directly.
    const helpers = execFileSync("pgrep", ["-f", "-P", String(process.pid), "gaffer-spawn-"], { encoding: "utf8" }).trim().split("\n");
    expect(helpers.length).toBeGreaterThan(1);
    expect(helpers.length).toBeLessThanOrEqual(4);
    const bin = join(dir, "bin");
    mkdirSync(bin);
    writeFileSync(join(bin, "gaffer-test-tool"), "#!/bin/sh\necho from-bin\n");
    chmodSync(join(bin, "gaffer-test-tool"), 0o755);
    const env = { PATH: `${join(dir, "empty")}:${bin}:${ENV.PATH}` };
    expect(resolveProgram("gaffer-test-tool", env.PATH)).toBe(join(bin, "gaffer-test-tool"));
    expect(resolveProgram("gaffer-test-tool", `relative:${env.PATH}`)).toBe("gaffer-test-tool");
    // A NUL byte never reaches an exec, where it would cut the argument short: refused as Node refuses it.
    expect((await runChild("gaffer-test-tool", ["a\0b"], { cwd: dir, env })).failure).toMatch(/must be a string without null bytes/);
    expect(await runChild("gaffer-test-tool", [], { cwd: dir, env })).toMatchObject({ stdout: "from-bin\n", exitCode: 0 });
    // Gone since it was found: the failure names it as asked, and the next call looks again.
    execFileSync("rm", [join(bin, "gaffer-test-tool")]);
    expect(await runChild("gaffer-test-tool", [], { cwd: dir, env })).toEqual({ stdout: "", stderr: "", exitCode: null, failure: "spawn gaffer-test-tool ENOENT" });
    expect(resolveProgram("gaffer-test-tool", env.PATH)).toBe("gaffer-test-tool");
  });

  it("starts every child directly once a helper could not start, and loses no call", async () => {
    const dir = tempDir("gaffer-spawn-test-");
    // A `perl` first on PATH that cannot run anything: the helper ends before it is ready.
    mkdirSync(join(dir, "bin"));
    writeFileSync(join(dir, "bin", "perl"), `#!/bin/sh\necho started >> ${join(dir, "perl-starts")}\nexit 2\n`);
    chmodSync(join(dir, "bin", "perl"), 0o755);
    const args = await workerArgs(join(import.meta.dirname, "../helpers/child-run-worker.ts"));
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [...args, "6"], { cwd: dir, timeout: 30_000, env: { ...process.env, PATH: `${join(dir, "bin")}:${process.env.PATH}` } }, (error, stdout) => (error ? reject(error) : resolve(stdout)));
    });
    expect(JSON.parse(out)).toEqual({ helpers: [] });
    // Six calls: two direct, one handed back by the helper that could not start, three direct without trying again.
    expect(readFileSync(join(dir, "perl-starts"), "utf8")).toBe("started\n");
  });

  it("never keeps a process running once its work is done, and ends with it", async () => {
    const dir = tempDir("gaffer-spawn-test-");
    const args = await workerArgs(join(import.meta.dirname, "../helpers/child-run-worker.ts"));
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [...args, "5"], { cwd: dir, timeout: 30_000 }, (error, stdout) => (error ? reject(error) : resolve(stdout)));
    });
    const { helpers } = JSON.parse(out) as { helpers: string[] };
    expect(helpers).toHaveLength(1);
    await waitFor(() => (helpers.every((pid) => !existsSync(`/proc/${pid}`)) ? true : undefined), { what: "the helper to end" });
  });
});
