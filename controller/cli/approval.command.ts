import type { Command } from "commander";
import { decideStage } from "../app/approvals.js";
import type { ApprovalDecision } from "../core/status-types.js";
import { withCommon, withControlDir, type CommonOptions } from "./context.js";
import { printJson, printLine } from "./output.js";

interface DecisionOptions extends CommonOptions {
  readonly comment?: string;
  readonly sign?: boolean;
}

/** `gaffer approve STAGE` and `gaffer reject STAGE`: a committed status-file edit. */
export function registerApprovalCommands(program: Command): void {
  registerDecision(program, "approve", "approved", "approve the stage's current plan: adds your approval to its status file and commits it as the current git user");
  registerDecision(program, "reject", "rejected", "reject the stage's current plan (the stage fails): adds your rejection to its status file and commits it");
}

function registerDecision(program: Command, verb: string, decision: ApprovalDecision, description: string): void {
  withCommon(program.command(verb).argument("<stage>", "playbook stage").description(description))
    .option("--comment <text>", "why (kept in the status file and the ledger)")
    .option("--sign", "sign the commit (git commit -S), for policy.requireSignedApprovals")
    .action(async (stage: string, options: DecisionOptions) => {
      const result = await withControlDir(options, async (ctx) => decideStage(ctx, { stage, decision, comment: options.comment ?? null, sign: options.sign === true }));
      if (options.json === true) printJson(result);
      else {
        printLine(`${decision} stage ${stage} (request ${result.requestId}) as ${result.authorEmail}: commit ${result.commit.slice(0, 12)} changes only ${result.file}`);
        printLine(`the controller checks it against the policy on its next pass; the Approved condition in ${result.file} says whether it counts`);
      }
    });
}
