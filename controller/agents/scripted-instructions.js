/**
 * The scripted agent's instructions (see scripted-agent.js for the grammar).
 * `instructions(io)` binds them to the agent's screen: `io.say(text)` prints a
 * result above the busy line, `io.fail(message)` prints `ERROR: message` and
 * stops the prompt, `io.ask(question)` shows a y/n question and resolves with
 * the answer, `io.out(text)` writes raw output.
 */
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { dirname, resolve } from "node:path";

export class BadInstruction extends Error {}


/** `PATH <<<TEXT` or `PATH <<TAG` + lines: returns {path, content, next}. */
function content(rest, lines, i) {
  let m = /^(\S+)\s+<<<(.*)$/s.exec(rest);
  if (m) return { path: m[1], content: m[2] + "\n", next: i };
  m = /^(\S+)\s+<<(\w+)$/.exec(rest);
  if (!m) throw new BadInstruction();
  const end = lines.indexOf(m[2], i + 1);
  if (end === -1) throw new BadInstruction();
  const body = lines.slice(i + 1, end);
  return { path: m[1], content: body.length === 0 ? "" : body.join("\n") + "\n", next: end };
}

function writeFile(path, text, append) {
  const file = resolve(process.cwd(), path);
  mkdirSync(dirname(file), { recursive: true });
  if (append) appendFileSync(file, text);
  else writeFileSync(file, text);
}

function splitArgv(text) {
  const argv = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) argv.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : m[2]);
  return argv;
}

function runArgv(argv) {
  const result = spawnSync(argv[0], argv.slice(1), { cwd: process.cwd(), encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  if (result.error) return { code: 127, output: String(result.error.message) };
  return { code: result.status ?? 1, output: `${result.stdout}${result.stderr}`.trimEnd() };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function instructions(io) {
  const { say, fail, out, BUSY } = io;
  return {
  write(rest, lines, i) {
    const c = content(rest, lines, i);
    writeFile(c.path, c.content, false);
    say(`wrote ${c.path} (${Buffer.byteLength(c.content)} bytes)`);
    return { next: c.next };
  },
  append(rest) {
    const m = /^(\S+)\s+(.*)$/s.exec(rest);
    if (!m) throw new BadInstruction();
    writeFile(m[1], m[2] + "\n", true);
    say(`appended ${m[1]}`);
  },
  resolve(rest, lines, i) {
    const c = content(rest, lines, i);
    const before = readFileSync(resolve(process.cwd(), c.path), "utf8");
    writeFile(c.path, c.content, false);
    say(`resolved ${c.path} (${/^<{7}( |$)/m.test(before) ? "had" : "no"} conflict markers)`);
    return { next: c.next };
  },
  run(rest) {
    const argv = splitArgv(rest);
    if (argv.length === 0) throw new BadInstruction();
    const { code, output } = runArgv(argv);
    if (output !== "") say(output.split("\n").slice(-20).join("\n"));
    if (code !== 0) return fail(`${argv[0]} exited ${code}`);
    say(`ran ${argv[0]}: exit 0`);
  },
  commit(rest) {
    if (rest === "") throw new BadInstruction();
    const add = runArgv(["git", "add", "-A"]);
    if (add.code !== 0) return fail(`git add failed: ${add.output}`);
    if (runArgv(["git", "diff", "--cached", "--quiet"]).code === 0) return say("nothing to commit: the tree already has this change");
    const commit = runArgv(["git", "commit", "-q", "-m", rest]);
    if (commit.code !== 0) return fail(`git commit failed: ${commit.output}`);
    say(`committed ${runArgv(["git", "rev-parse", "--short", "HEAD"]).output} ${rest}`);
  },
  async sleep(rest) {
    if (!/^\d+$/.test(rest)) throw new BadInstruction();
    await sleep(Number(rest));
    say(`slept ${rest} ms`);
  },
  async ask(rest) {
    if (rest === "") throw new BadInstruction();
    const answer = await io.ask(rest);
    const yes = /^y(es)?$/i.test(answer);
    say(`answer: ${yes ? "yes" : "no"}`);
    return yes ? {} : { stop: true };
  },
  error(rest) {
    return fail(rest === "" ? "error" : rest);
  },
  async ratelimit(rest) {
    if (!/^\d+$/.test(rest)) throw new BadInstruction();
    const resets = new Date(Date.now() + Number(rest) * 1000).toISOString();
    out(`\r\x1b[2KRATE LIMITED: usage limit reached, resets at ${resets} (in ${rest} s)`);
    await sleep(Number(rest) * 1000);
    out(`\r\n${BUSY}`);
  },
  exit(rest) {
    if (!/^\d+$/.test(rest)) throw new BadInstruction();
    out(`\r\x1b[2Kexiting with ${rest}\r\n`);
    process.exit(Number(rest));
  },
  verdict(rest) {
    const m = /^(approve|request-changes)(?:\s+(.*))?$/s.exec(rest);
    if (!m || (m[1] === "request-changes" && !m[2])) throw new BadInstruction();
    say(m[1] === "approve" ? "VERDICT: approve" : `VERDICT: request-changes: ${m[2]}`);
  },
  done(rest) {
    say(`SUMMARY: ${rest}`);
  },
};
}
