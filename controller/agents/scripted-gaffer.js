/**
 * The scripted agent's answers to the two prompts gaffer itself writes, so the
 * demo and the tests can run reviews and conflict resolution without a model:
 *
 * - `Review request: task T, base B, head H.` -> reads `git diff B...HEAD` and
 *   prints `VERDICT: request-changes: FILE:LINE adds FIXME...` for every added
 *   line with FIXME or a conflict marker, else `VERDICT: approve`.
 * - `Resolve the merge conflict of task T ...` -> merges (or rebases onto) the
 *   integration head named in the prompt, resolves each conflicted hunk as the
 *   union of both sides (ours, then theirs), and commits.
 *
 * - `# gaffer: continue after a crash. ...` (controller/core/continue-prompt.ts)
 *   -> runs the original prompt quoted at its end, minus what is already
 *   done: every line up to the last `commit MESSAGE` whose subject the prompt
 *   lists among the commits since the task started (as a real agent reads
 *   the history instead of redoing the work), and every later `append PATH
 *   TEXT` whose PATH the prompt lists as uncommitted and that already ends
 *   with TEXT (work done, not yet committed, when the session died).
 *
 * Deterministic, like the rest of the scripted agent. Real agents get the same
 * prompts and answer them with judgement.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";

function git(args, env = {}) {
  const result = spawnSync("git", args, { cwd: process.cwd(), encoding: "utf8", env: { ...process.env, ...env } });
  return { code: result.status ?? 1, output: `${result.stdout ?? ""}${result.stderr ?? ""}`.trim() };
}

/** Handles a gaffer-written prompt; returns false when `text` is not one. */
export function answerGafferPrompt(text, io) {
  const review = /^Review request: task (\S+), base (\S+), head (\S+)\./m.exec(text);
  if (review) return answerReview(review[2], io);
  if (/^Resolve the merge conflict of task /m.test(text)) return answerResolve(text, io);
  return false;
}

/** The lines to run for a prompt: all of them, or for a continue prompt only what is not done yet. */
export function linesToRun(text, io) {
  const all = text.split("\n");
  if (!all[0]?.startsWith("# gaffer: continue after a crash.")) return all;
  const done = new Set(all.filter((l) => /^# {3}[0-9a-f]{12} /.test(l)).map((l) => l.slice(17).trim()));
  const prompt = all.slice(all.indexOf("# The prompt was:") + 1);
  let skip = 0;
  prompt.forEach((l, i) => {
    const commit = /^commit (.+)$/.exec(l.trim());
    if (commit && done.has(commit[1].trim())) skip = i + 1;
  });
  const uncommitted = uncommittedPaths(all);
  const rest = prompt.slice(skip).filter((l) => !appendAlreadyDone(l, uncommitted));
  io.say(`note: continuing after a crash: ${prompt.length - rest.length} of ${prompt.length} lines already done`);
  return rest;
}

/** The paths a continue prompt lists under `# Uncommitted (git status --short):`. */
function uncommittedPaths(lines) {
  const from = lines.findIndex((l) => l.startsWith("# Uncommitted (git status --short):"));
  const paths = new Set();
  for (const l of lines.slice(from + 1)) {
    const entry = /^# {3}.. (.+)$/.exec(l);
    if (from < 0 || entry === null) break;
    paths.add(entry[1].trim());
  }
  return paths;
}

/** `append PATH TEXT` whose uncommitted PATH already ends with TEXT. */
function appendAlreadyDone(line, uncommitted) {
  const append = /^append (\S+) (.*)$/.exec(line.trim());
  if (append === null || !uncommitted.has(append[1]) || !existsSync(append[1])) return false;
  return readFileSync(append[1], "utf8").endsWith(`${append[2]}\n`);
}

function answerReview(base, io) {
  const diff = git(["diff", "--no-color", "-U0", `${base}...HEAD`]);
  const findings = [];
  let file = "?";
  let line = 0;
  for (const row of diff.output.split("\n")) {
    if (row.startsWith("+++ ")) file = row.slice(6);
    const hunk = /^@@ -\S+ \+(\d+)/.exec(row);
    if (hunk) line = Number(hunk[1]);
    else if (row.startsWith("+") && !row.startsWith("+++")) {
      if (/FIXME|^\+(<{7}|>{7}|={7})( |$)/.test(row)) findings.push(`${file}:${line} adds ${JSON.stringify(row.slice(1).trim().slice(0, 60))}`);
      line += 1;
    }
  }
  io.say(`reviewed ${base}...HEAD`);
  io.say(findings.length === 0 ? "VERDICT: approve" : `VERDICT: request-changes: ${findings.join("; ")}`);
  return true;
}

/** Keeps both sides of every conflict hunk: ours, then theirs. */
export function unionResolve(content) {
  const out = [];
  let part = null;
  for (const row of content.split("\n")) {
    if (row.startsWith("<<<<<<<")) part = "ours";
    else if (part !== null && row.startsWith("|||||||")) part = "base";
    else if (part !== null && /^={7}$/.test(row)) part = "theirs";
    else if (part !== null && row.startsWith(">>>>>>>")) part = null;
    else if (part !== "base") out.push(row);
  }
  return out.join("\n");
}

function answerResolve(text, io) {
  const head = /^Integration branch: \S+ at ([0-9a-f]{7,40})$/m.exec(text);
  if (!head) return io.fail("resolve prompt names no integration head"), true;
  const rebase = /git rebase /.test(text);
  const started = rebase ? git(["rebase", head[1]]) : git(["merge", "--no-edit", head[1]]);
  for (let round = 0; round < 50; round++) {
    const conflicted = git(["diff", "--name-only", "--diff-filter=U"]).output.split("\n").filter((f) => f !== "");
    if (conflicted.length === 0 && round === 0 && started.code === 0) return io.say("merged cleanly: nothing to resolve"), true;
    for (const file of conflicted) {
      writeFileSync(file, unionResolve(readFileSync(file, "utf8")));
      git(["add", "--", file]);
      io.say(`resolved ${file} (kept both sides)`);
    }
    const next = rebase ? git(["rebase", "--continue"], { GIT_EDITOR: "true" }) : git(["commit", "--no-edit"]);
    if (!rebase || next.code === 0 || !/CONFLICT/.test(next.output)) {
      if (next.code !== 0 && !/nothing to commit/.test(next.output)) return io.fail(`could not finish: ${next.output.split("\n")[0]}`), true;
      io.say(`committed the resolution on ${git(["rev-parse", "--short", "HEAD"]).output}`);
      return true;
    }
  }
  return io.fail("too many rebase rounds"), true;
}
