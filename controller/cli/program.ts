import { readFileSync } from "node:fs";
import { Command } from "commander";
import { packagePath } from "../paths.js";

const VERSION = (JSON.parse(readFileSync(packagePath("package.json"), "utf8")) as { version: string }).version;

/** Registers one group's commands on the program. */
type Register = (program: Command) => void;

/**
 * Every command group: the top-level commands it registers and its module,
 * loaded only when one of them runs (or for the full help): a command pays
 * at start-up only for what it imports. In registration (help) order; a
 * test checks each group registers exactly these names.
 */
export const COMMAND_GROUPS: readonly { readonly names: readonly string[]; readonly load: () => Promise<Register> }[] = [
  { names: ["init"], load: async () => (await import("./init.command.js")).registerInit },
  { names: ["validate"], load: async () => (await import("./validate.command.js")).registerValidate },
  { names: ["plan"], load: async () => (await import("./plan.command.js")).registerPlan },
  { names: ["log", "get"], load: async () => (await import("./ledger.command.js")).registerLedgerCommands },
  { names: ["ledger"], load: async () => (await import("./ledger-maintenance.command.js")).registerLedgerMaintenance },
  { names: ["ledger"], load: async () => (await import("./rebuild.command.js")).registerRebuild },
  { names: ["session"], load: async () => (await import("./session.command.js")).registerSessionCommands },
  { names: ["approve", "reject"], load: async () => (await import("./approval.command.js")).registerApprovalCommands },
  { names: ["memory"], load: async () => (await import("./memory.command.js")).registerMemoryCommands },
  { names: ["worktree", "commit", "merge", "resolve"], load: async () => (await import("./workspace.command.js")).registerWorkspaceCommands },
  { names: ["up", "pause", "resume", "retry"], load: async () => (await import("./controller.command.js")).registerController },
  { names: ["demo"], load: async () => (await import("./demo.command.js")).registerDemo },
  { names: ["report"], load: async () => (await import("./report.command.js")).registerReport },
  { names: ["mcp"], load: async () => (await import("./mcp.command.js")).registerMcp },
  { names: ["status"], load: async () => (await import("./status.command.js")).registerStatus },
  { names: ["describe"], load: async () => (await import("./describe.command.js")).registerDescribe },
  { names: ["gate"], load: async () => (await import("./gate.command.js")).registerGate },
  { names: ["hook"], load: async () => (await import("./hook.command.js")).registerHook },
  { names: ["agents"], load: async () => (await import("./agents.command.js")).registerAgentsCommands },
];

/** The program without commands: name, description, version and the usage-error behaviour. */
function baseProgram(): Command {
  return new Command("gaffer")
    .description("Declarative controller for fleets of AI coding agents in tmux and git worktrees")
    .version(VERSION, "-V, --version")
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
}

/** The whole `gaffer` command tree (help, docs). Usage errors throw CommanderError (exit 2 in main.ts). */
export async function buildProgram(): Promise<Command> {
  return withGroups(baseProgram(), COMMAND_GROUPS);
}

/**
 * The command tree `argv` needs: only the groups of the command it names
 * (`gaffer status ...`, `gaffer help status`), none for `--version`, all
 * for anything else (the full help, an unknown command's error).
 */
export async function buildProgramFor(argv: readonly string[]): Promise<Command> {
  if (argv.length === 1 && (argv[0] === "-V" || argv[0] === "--version")) return baseProgram();
  const name = argv[0] === "help" ? argv[1] : argv[0];
  const groups = COMMAND_GROUPS.filter((g) => name !== undefined && g.names.includes(name));
  return withGroups(baseProgram(), groups.length === 0 ? COMMAND_GROUPS : groups);
}

async function withGroups(program: Command, groups: typeof COMMAND_GROUPS): Promise<Command> {
  const registers = await Promise.all(groups.map((g) => g.load()));
  for (const register of registers) register(program);
  for (const command of program.commands) inheritExitOverride(command);
  return program;
}

function inheritExitOverride(command: Command): void {
  command.exitOverride().showHelpAfterError();
  for (const sub of command.commands) inheritExitOverride(sub);
}
