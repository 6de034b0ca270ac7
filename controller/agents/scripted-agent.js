#!/usr/bin/env node
/**
 * gaffer's bundled scripted agent: a small, deterministic coding-agent TUI for
 * the demo and the tests (and a template for what gaffer expects of an agent).
 *
 *   node scripted-agent.js --model M --session S [--log FILE] [--ignore-enter]
 *
 * Screen: a banner, then the ready prompt `scripted> `. Input is raw: typed
 * keys and bracketed pastes (ESC[200~ ... ESC[201~, newlines kept) are echoed;
 * Enter submits. While it acts the last line is `Working...`; results are
 * printed above it. Each processed prompt ends with `DONE <n>` (n counts
 * prompts from 1), then the prompt again. An empty submit is ignored.
 *
 * Prompt language: one instruction per line, the keyword in lowercase first.
 *   write PATH <<<TEXT       write TEXT and a newline to PATH (dirs created)
 *   write PATH <<TAG         here-doc: the following lines up to a line `TAG`
 *   append PATH TEXT         append TEXT and a newline to PATH
 *   resolve PATH <<<TEXT     replace a conflicted file's whole content (also <<TAG)
 *   run CMD ARG...           run argv in the cwd, no shell; "double quotes" group
 *   commit MESSAGE           git add -A, git commit -m MESSAGE
 *   sleep MS                 act for MS milliseconds
 *   ask QUESTION             print `? QUESTION [y/n]`, wait for y or n;
 *                            n skips the rest of the prompt
 *   error TEXT               print `ERROR: TEXT`, skip the rest of the prompt
 *   ratelimit SECONDS        print `RATE LIMITED: usage limit reached, resets at
 *                            <ISO> (in N s)` and block for that long
 *   exit CODE                exit with CODE at once (a crash)
 *   verdict approve [TEXT] | verdict request-changes FINDINGS
 *                            print `VERDICT: approve` / `VERDICT: request-changes: FINDINGS`
 *   done SUMMARY             print `SUMMARY: SUMMARY`
 * Blank lines and lines starting with `#` are ignored. A line starting with
 * `@` or `!` is `ERROR: unknown instruction <word>`; a keyword line with the
 * wrong shape is `ERROR: bad instruction: <line>`; both skip the rest. Any
 * other line is prose, acknowledged as `note: <line>` (so real prompts work).
 *
 * --log FILE (or GAFFER_SCRIPTED_LOG=FILE in its environment) appends one JSON
 * line per received prompt ({n, text}).
 * --ignore-enter never submits (to test stranded delivery).
 * --echo-only takes a submitted prompt (logs it) and shows the prompt again at
 *   once: no busy line, no output, no DONE (a screen where only the echo
 *   changed, to test that an echo is never taken as a finished turn).
 * --trust-file FILE shows a start-up trust dialog
 *   (`? Do you trust the files in this folder? [y/n]`) unless FILE lists the
 *   cwd; `y` + Enter appends the cwd to FILE (as a real CLI records trust in
 *   its config), `n` + Enter exits 1. Any input while the dialog shows is
 *   logged as {dialogInput} (to test that nothing is typed into a dialog).
 *
 * The two prompts gaffer writes itself (a review request, a conflict to
 * resolve) are answered without the language above: see scripted-gaffer.js.
 */
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { BadInstruction, instructions } from "./scripted-instructions.js";
import { answerGafferPrompt, linesToRun } from "./scripted-gaffer.js";

const args = parseArgs(process.argv.slice(2));
const out = (text) => process.stdout.write(text);
const PROMPT = "scripted> ";
const BUSY = "Working...";
const PASTE_START = "\x1b[200~";
const PASTE_END = "\x1b[201~";

let promptCount = 0;
let mode = "prompt"; // prompt | busy | ask
let line = "";
let pending = "";
let inPaste = false;
let answerWaiter = null;
const queued = [];

function parseArgs(argv) {
  const opts = { model: "scripted-1", session: "-", log: process.env.GAFFER_SCRIPTED_LOG || null, ignoreEnter: false, trustFile: null, echoOnly: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--model") opts.model = argv[++i];
    else if (a === "--session") opts.session = argv[++i];
    else if (a === "--log") opts.log = argv[++i];
    else if (a === "--ignore-enter") opts.ignoreEnter = true;
    else if (a === "--trust-file") opts.trustFile = argv[++i];
    else if (a === "--echo-only") opts.echoOnly = true;
  }
  return opts;
}

const crlf = (text) => text.replace(/\r?\n/g, "\r\n");

/** Prints a result line above the busy line, which stays last. */
function say(text) {
  out(`\r\x1b[2K${crlf(text)}\r\n${BUSY}`);
}

function startUp() {
  out(`gaffer scripted agent 1 (model ${args.model}, session ${args.session})\r\n`);
  out(`cwd: ${process.cwd()}\r\n`);
  out(`Type instructions (write, append, run, commit, sleep, ask, error, ratelimit, exit, verdict, done) and press Enter.\r\n\r\n`);
  const trusted = args.trustFile === null || (existsSync(args.trustFile) && readFileSync(args.trustFile, "utf8").split("\n").includes(process.cwd()));
  if (trusted) out("\x1b[?2004h" + PROMPT);
  else {
    mode = "dialog";
    out("? Do you trust the files in this folder? [y/n] ");
  }
  if (process.stdin.isTTY) process.stdin.setRawMode(true);
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk) => {
    if (mode === "dialog") answerDialog(chunk);
    else if (mode === "busy") queued.push(chunk);
    else feed(chunk);
  });
}

let dialogAnswer = "";

/** The start-up trust dialog: only `y`/`n` + Enter answer it; everything received is logged. */
function answerDialog(chunk) {
  if (args.log) appendFileSync(args.log, JSON.stringify({ dialogInput: chunk }) + "\n");
  for (const key of chunk) {
    if (key !== "\r" && key !== "\n") {
      dialogAnswer += key;
      continue;
    }
    const answer = dialogAnswer.trim();
    dialogAnswer = "";
    if (answer === "n") process.exit(1);
    if (answer !== "y") continue;
    appendFileSync(args.trustFile, process.cwd() + "\n");
    mode = "prompt";
    out("\r\n\x1b[?2004h" + PROMPT);
    return;
  }
}

/** Splits input into pastes and keys; a partial marker at the end waits for the next chunk. */
function feed(chunk) {
  pending += chunk;
  while (pending.length > 0) {
    if (inPaste) {
      const end = pending.indexOf(PASTE_END);
      const usable = end === -1 ? safeLength(pending, PASTE_END) : end;
      const text = pending.slice(0, usable).replace(/\r\n?/g, "\n");
      line += text;
      out(crlf(text));
      pending = pending.slice(usable);
      if (end === -1) return;
      pending = pending.slice(PASTE_END.length);
      inPaste = false;
      continue;
    }
    if (pending.startsWith(PASTE_START)) {
      pending = pending.slice(PASTE_START.length);
      inPaste = true;
      continue;
    }
    if (pending.startsWith("\x1b") && PASTE_START.startsWith(pending)) return;
    const key = pending[0];
    pending = pending.slice(1);
    if (onKey(key) === "submitted") {
      // Keys typed after Enter wait until the agent is at its prompt again.
      if (pending !== "") queued.unshift(pending);
      pending = "";
      return;
    }
  }
}

function safeLength(text, marker) {
  for (let k = Math.min(marker.length - 1, text.length); k > 0; k--) if (marker.startsWith(text.slice(-k))) return text.length - k;
  return text.length;
}

function onKey(key) {
  if (key === "\r" || key === "\n") {
    if (args.ignoreEnter || line.trim() === "") return "ignored";
    const text = line;
    line = "";
    out("\r\n");
    if (mode === "ask") {
      const waiter = answerWaiter;
      answerWaiter = null;
      waiter(text.trim());
    } else {
      void processPrompt(text);
    }
    return "submitted";
  }
  if (key === "\x7f" || key === "\b") {
    if (line.length > 0 && !line.endsWith("\n")) {
      line = line.slice(0, -1);
      out("\b \b");
    }
    return "edited";
  }
  if (key === "\x03") {
    line = "";
    out("^C\r\n" + (mode === "ask" ? "" : PROMPT));
    return "edited";
  }
  if (key >= " " || key === "\t") {
    line += key;
    out(key);
  }
  return "edited";
}

async function processPrompt(text) {
  mode = "busy";
  const n = ++promptCount;
  if (args.log) appendFileSync(args.log, JSON.stringify({ n, text }) + "\n");
  if (args.echoOnly) {
    out(PROMPT);
    mode = "prompt";
    return;
  }
  out(BUSY);
  const lines = answerGafferPrompt(text, { say, fail }) ? [] : linesToRun(text, { say });
  for (let i = 0; i < lines.length; i++) {
    const result = await runLine(lines, i);
    if (result.stop) break;
    i = result.next ?? i;
  }
  out(`\r\x1b[2KDONE ${n}\r\n${PROMPT}`);
  mode = "prompt";
  const backlog = queued.splice(0).join("");
  if (backlog !== "") feed(backlog);
}

/** Runs line i; returns {stop} to skip the rest, {next} when a here-doc consumed lines. */
async function runLine(lines, i) {
  const raw = lines[i];
  const trimmed = raw.trim();
  if (trimmed === "" || trimmed.startsWith("#")) return {};
  if (/^[@!]/.test(trimmed)) return fail(`unknown instruction ${trimmed.split(/\s+/)[0]}`);
  const [word] = trimmed.split(/\s+/, 1);
  const rest = trimmed.slice(word.length).trim();
  const handler = Object.hasOwn(INSTRUCTIONS, word) ? INSTRUCTIONS[word] : undefined;
  if (handler === undefined) {
    say(`note: ${trimmed}`);
    return {};
  }
  try {
    return (await handler(rest, lines, i)) ?? {};
  } catch (error) {
    return fail(error instanceof BadInstruction ? `bad instruction: ${trimmed}` : String(error.message ?? error));
  }
}

function fail(message) {
  say(`ERROR: ${message}`);
  return { stop: true };
}

const INSTRUCTIONS = instructions({
  say,
  fail,
  out,
  BUSY,
  ask(question) {
    mode = "ask";
    out(`\r\x1b[2K? ${question} [y/n] `);
    return new Promise((r) => (answerWaiter = (answer) => {
      mode = "busy";
      r(answer);
    }));
  },
});

process.on("SIGHUP", () => process.exit(129));
startUp();
