import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { execa } from "execa";
import { TmuxAdapter } from "../adapters/tmux.js";
import { readHostOfSession } from "../../state/hosts.repository.js";
import { UsageError, userMistake } from "../errors.js";
import { sessionContext } from "../app/contexts.js";
import { closeSession, commandOutcomeError, createSession, readOutput, sendCommand } from "../app/sessions.js";
import { listSessions } from "../app/listing.js";
import { commandLine, sessionLine } from "../app/text.js";
import { checkSessionHealth, recoverSession } from "../sessions/index.js";
import { requireOpenSession } from "../sessions/session-store.js";
import { overrideOf, withCommon, withControlDir, withOverride, type CommonOptions, type OverrideOptions } from "./context.js";
import { formatTable, printJson, printLine } from "./output.js";

export { commandLine, sessionLine } from "../app/text.js";

function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} must be a positive integer (got ${value})`);
  return n;
}

interface CreateOptions extends CommonOptions, OverrideOptions {
  readonly task: string;
  readonly agent: string;
  readonly model?: string;
  readonly role?: string;
  readonly worktree?: string;
}

function registerCreate(session: Command): void {
  withOverride(withCommon(session.command("create").description("start an agent session in the task's own worktree (reserves capacity, waits for the ready screen)")))
    .requiredOption("--task <task>", "task the session works on")
    .requiredOption("--agent <agent>", "AgentPool agent")
    .option("--model <model>", "model (default: the agent's first)")
    .option("--role <role>", "capacity role (default: the task's role, else worker)")
    .option("--worktree <path>", "directory to start in: must be the task's own worktree (the default)")
    .action(async (options: CreateOptions) => {
      const { task, agent, model, role, worktree } = options;
      const created = await withControlDir(options, async (ctx) =>
        createSession(ctx, { task, agent, override: overrideOf(options), ...(model === undefined ? {} : { model }), ...(role === undefined ? {} : { role }), ...(worktree === undefined ? {} : { worktree: resolve(worktree) }) }),
      );
      if (options.json === true) printJson(created);
      else printLine(sessionLine(created));
    });
}

interface SendOptions extends CommonOptions {
  readonly file?: string;
  readonly wait?: string;
  readonly timeout?: string;
}

function registerSend(session: Command): void {
  withCommon(session.command("send").argument("<id>", "session id").argument("[text]", "text to send (or --file)").description("send a prompt through the session's queue with confirmed delivery"))
    .option("--file <file>", "read the text from a file")
    .option("--wait <state>", "return at acknowledged (default) or done", "acknowledged")
    .option("--timeout <ms>", "give up waiting after this long")
    .action(async (id: string, text: string | undefined, options: SendOptions) => {
      if ((text === undefined) === (options.file === undefined)) throw new UsageError("give the text either as an argument or with --file, not both or neither");
      if (options.wait !== "acknowledged" && options.wait !== "done") throw new UsageError(`--wait takes acknowledged or done (got ${options.wait})`);
      const body = text ?? readUserFile(resolve(options.file!));
      const timeoutMs = positiveInt(options.timeout, "--timeout");
      const command = await withControlDir(options, async (ctx) =>
        sendCommand(ctx, { sessionId: id, text: body, waitFor: options.wait as "acknowledged" | "done", ...(timeoutMs === undefined ? {} : { timeoutMs }) }),
      );
      if (options.json === true) printJson(command);
      else printLine(commandLine(command));
      const failure = commandOutcomeError(command);
      if (failure !== null) throw failure;
    });
}

interface ReadOptions extends CommonOptions {
  readonly lines?: string;
  readonly since?: string;
}

function registerRead(session: Command): void {
  withCommon(session.command("read").argument("<id>", "session id").description("the session's latest output and a status hint with its evidence"))
    .option("--lines <n>", "last N lines", "50")
    .option("--since <marker>", "only the output after the last line containing MARKER")
    .action(async (id: string, options: ReadOptions) => {
      const lines = positiveInt(options.lines, "--lines");
      const output = await withControlDir(options, async (ctx) =>
        readOutput(ctx, { sessionId: id, ...(lines === undefined ? {} : { lines }), ...(options.since === undefined ? {} : { sinceMarker: options.since }) }),
      );
      if (options.json === true) return printJson(output);
      printLine(output.text);
      printLine(`--- status: ${output.status} (rule ${output.rule ?? "none"}${output.matched === null ? "" : `, matched ${JSON.stringify(output.matched)}`}, screen ${output.screenHash}, state ${output.state})`);
    });
}

function registerClose(session: Command): void {
  withCommon(session.command("close").argument("<id>", "session id").description("kill the session, mark it closed, release its capacity"))
    .action(async (id: string, options: CommonOptions) => {
      const result = await withControlDir(options, async (ctx) => closeSession(ctx, id));
      if (options.json === true) printJson(result);
      else printLine(result.message);
    });
}

function registerList(session: Command): void {
  withCommon(session.command("list").description("open sessions (--all: closed ones too)"))
    .option("--all", "include closed and failed sessions")
    .action(async (options: CommonOptions & { all?: boolean }) => {
      const sessions = await withControlDir(options, async (ctx) => listSessions(ctx, { all: options.all === true }));
      if (options.json === true) return printJson(sessions);
      if (sessions.length === 0) return printLine("no open sessions");
      printLine(formatTable(sessions, [
        ["ID", (s) => s.id], ["TASK", (s) => s.task ?? "-"], ["AGENT", (s) => s.agent], ["MODEL", (s) => s.model ?? "-"],
        ["STATE", (s) => s.state], ["STATUS", (s) => s.status], ["WORKTREE", (s) => s.worktree],
      ]));
    });
}

function registerAttach(session: Command): void {
  withCommon(session.command("attach").argument("<id>", "session id").description("print (or with --exec run) the tmux command that attaches to the session"))
    .option("--exec", "run it (take over the session; detach with C-b d)")
    .action(async (id: string, options: CommonOptions & { exec?: boolean }) => {
      const argv = await withControlDir(options, async (ctx) => {
        const db = await ctx.openLedger();
        const s = await requireOpenSession(db, id);
        // A session on an agent host is attached to through ssh (a terminal is asked for: -t).
        const hostName = await readHostOfSession(db, s.id);
        const host = hostName === null ? null : ((await ctx.hosts()).find((h) => h.name === hostName) ?? null);
        return new TmuxAdapter({ socket: s.tmuxSocket, host }).attachArgv(s.tmuxName);
      });
      if (options.exec === true) {
        const env = { ...process.env };
        delete env.TMUX;
        await execa(argv[0]!, argv.slice(1), { stdio: "inherit", env, extendEnv: false });
        return;
      }
      if (options.json === true) printJson({ sessionId: id, argv, command: argv.join(" ") });
      else printLine(argv.join(" "));
    });
}

function registerCheck(session: Command): void {
  withCommon(session.command("check").argument("<id>", "session id").description("health check (Crashed, Stuck, Backoff); --recover restarts per the agent's policy"))
    .option("--recover", "restart a crashed or stuck session")
    .action(async (id: string, options: CommonOptions & { recover?: boolean }) => {
      const result = await withControlDir(options, async (ctx) => {
        const sctx = await sessionContext(ctx);
        const health = await checkSessionHealth(sctx, id);
        const recovery = options.recover === true ? await recoverSession(sctx, id) : null;
        return { ...health, recovery };
      });
      if (options.json === true) printJson(result);
      else printLine(`session ${id}: ${result.state}${result.reason ? ` (${result.reason})` : ""}${result.recovery ? `; recovery: ${result.recovery}` : ""}`);
    });
}

/** `gaffer session create|send|read|close|list|attach|check`. */
export function registerSessionCommands(program: Command): void {
  const session = program.command("session").description("agent sessions in tmux: create, send, read, close, list, attach, check");
  registerCreate(session);
  registerSend(session);
  registerRead(session);
  registerClose(session);
  registerList(session);
  registerAttach(session);
  registerCheck(session);
}

function readUserFile(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw userMistake(error, "read the prompt from") ?? error;
  }
}
