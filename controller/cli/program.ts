import { readFileSync } from "node:fs";
import { Command } from "commander";
import { packagePath } from "../paths.js";
import { registerApprovalCommands } from "./approval.command.js";
import { registerController } from "./controller.command.js";
import { registerDemo } from "./demo.command.js";
import { registerDescribe } from "./describe.command.js";
import { registerGate } from "./gate.command.js";
import { registerStatus } from "./status.command.js";
import { registerAgentsCommands } from "./agents.command.js";
import { registerHook } from "./hook.command.js";
import { registerInit } from "./init.command.js";
import { registerLedgerCommands } from "./ledger.command.js";
import { registerLedgerMaintenance } from "./ledger-maintenance.command.js";
import { registerMemoryCommands } from "./memory.command.js";
import { registerMcp } from "./mcp.command.js";
import { registerPlan } from "./plan.command.js";
import { registerRebuild } from "./rebuild.command.js";
import { registerReport } from "./report.command.js";
import { registerSessionCommands } from "./session.command.js";
import { registerValidate } from "./validate.command.js";
import { registerWorkspaceCommands } from "./workspace.command.js";

const VERSION = (JSON.parse(readFileSync(packagePath("package.json"), "utf8")) as { version: string }).version;

/** The `gaffer` command tree. Usage errors throw CommanderError (exit 2 in main.ts). */
export function buildProgram(): Command {
  const program = new Command("gaffer")
    .description("Declarative controller for fleets of AI coding agents in tmux and git worktrees")
    .version(VERSION, "-V, --version")
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  registerInit(program);
  registerValidate(program);
  registerPlan(program);
  registerLedgerCommands(program);
  registerLedgerMaintenance(program);
  registerRebuild(program);
  registerSessionCommands(program);
  registerApprovalCommands(program);
  registerMemoryCommands(program);
  registerWorkspaceCommands(program);
  registerController(program);
  registerDemo(program);
  registerReport(program);
  registerMcp(program);
  registerStatus(program);
  registerDescribe(program);
  registerGate(program);
  registerHook(program);
  registerAgentsCommands(program);
  for (const command of program.commands) inheritExitOverride(command);
  return program;
}

function inheritExitOverride(command: Command): void {
  command.exitOverride().showHelpAfterError();
  for (const sub of command.commands) inheritExitOverride(sub);
}
