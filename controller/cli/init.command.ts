import type { Command } from "commander";
import { execa } from "execa";
import { resolve } from "node:path";
import { scaffoldControlDir, type ScaffoldResult } from "../scaffold.js";
import { withCommon, type CommonOptions } from "./context.js";
import { printJson, printLine } from "./output.js";

interface InitOptions extends CommonOptions {
  readonly repo: string;
}

async function gitUserEmail(dir: string): Promise<string | null> {
  const result = await execa("git", ["config", "user.email"], { cwd: dir, reject: false });
  return result.exitCode === 0 && result.stdout.trim() !== "" ? result.stdout.trim() : null;
}

/** What a solo approver must know: their own approval of manifests they committed never counts. */
export function soloApproverNote(approver: string): string {
  return `${approver} is the only approver and preventSelfApproval is true, so approving plans whose manifests ${approver} committed never counts. ` +
    "Choose one in manifests/project.yaml: add a second approver's email to spec.policy.approvers (they run `gaffer approve STAGE`), " +
    "or set spec.policy.preventSelfApproval: false for a solo project";
}

function printSummary(result: ScaffoldResult, approver: string | null, dirFlag: string): void {
  for (const file of result.written) printLine(`wrote ${file}`);
  if (result.gitignoreAdded.length > 0) printLine(`added to .gitignore: ${result.gitignoreAdded.join(" ")}`);
  const argv = `[${result.testCommand.argv.join(", ")}]`;
  printLine(result.testCommand.source === null
    ? `note: no test command found; the gates run ${argv} (whitespace errors only): put your test command in manifests/playbook.yaml (gate.commands)`
    : `gate: ${argv} (from ${result.testCommand.source})`);
  printLine(`worktrees: ${result.worktreeRoot} (outside the target repo, so its test runner never finds them)`);
  if (approver === null) printLine("note: no git user.email here; put your approver emails in manifests/project.yaml (spec.policy.approvers)");
  else {
    printLine(`approver: ${approver}`);
    printLine(`note: ${soloApproverNote(approver)}`);
  }
  printLine(`next: gaffer validate${dirFlag} && gaffer plan build${dirFlag}`);
}

export function registerInit(program: Command): void {
  withCommon(program.command("init").description("scaffold a control dir: default manifests, their schemas, status/, memory/, .gitignore"))
    .option("--repo <path>", "target git repo, relative to the control dir", ".")
    .action(async (options: InitOptions) => {
      const dir = resolve(options.dir);
      const approver = await gitUserEmail(dir);
      const result = await scaffoldControlDir({ dir, repo: options.repo, approver });
      if (options.json === true) {
        printJson({ dir, ...result, approver, notes: approver === null ? [] : [soloApproverNote(approver)] });
        return;
      }
      printSummary(result, approver, options.dir === "." ? "" : ` --dir ${options.dir}`);
    });
}
