import type { Command } from "commander";
import { execa } from "execa";
import { resolve } from "node:path";
import { scaffoldControlDir } from "../scaffold.js";
import { withCommon, type CommonOptions } from "./context.js";
import { printJson, printLine } from "./output.js";

interface InitOptions extends CommonOptions {
  readonly repo: string;
}

async function gitUserEmail(dir: string): Promise<string | null> {
  const result = await execa("git", ["config", "user.email"], { cwd: dir, reject: false });
  return result.exitCode === 0 && result.stdout.trim() !== "" ? result.stdout.trim() : null;
}

export function registerInit(program: Command): void {
  withCommon(program.command("init").description("scaffold a control dir: default manifests, status/, memory/, .gitignore"))
    .option("--repo <path>", "target git repo, relative to the control dir", ".")
    .action(async (options: InitOptions) => {
      const dir = resolve(options.dir);
      const approver = await gitUserEmail(dir);
      const result = await scaffoldControlDir({ dir, repo: options.repo, approver });
      if (options.json === true) {
        printJson({ dir, ...result, approver });
        return;
      }
      for (const file of result.written) printLine(`wrote ${file}`);
      if (result.gitignoreUpdated) printLine("added .gaffer/ to .gitignore");
      printLine(approver === null ? "note: no git user.email here; put your approver emails in manifests/project.yaml (spec.policy.approvers)" : `approver: ${approver}`);
      printLine(`next: gaffer validate --dir ${options.dir} && gaffer plan build --dir ${options.dir}`);
    });
}
