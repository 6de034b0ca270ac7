import type { Command } from "commander";
import { decideStage } from "../app/approvals.js";
import type { ApprovalDecision } from "../core/status-types.js";
import { allStages, stageNeedsApproval } from "../core/project-config.js";
import { ApprovalError, NotFoundError } from "../errors.js";
import { withCommon, withControlDir, type CommonOptions, type ControlDir } from "./context.js";
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
      const result = await withControlDir(options, async (ctx) => {
        await requireApprovableStage(ctx, stage, verb);
        return decideStage(ctx, { stage, decision, comment: options.comment ?? null, sign: options.sign === true });
      });
      if (options.json === true) printJson(result);
      else {
        printLine(`${decision} stage ${stage} (request ${result.requestId}) as ${result.authorEmail}: commit ${result.commit.slice(0, 12)} changes only ${result.file}`);
        printLine(`the controller checks it against the policy on its next pass; the Approved condition in ${result.file} says whether it counts`);
      }
    });
}

/** An unknown stage, or one that needs no approval, is said so before anything is written. */
async function requireApprovableStage(ctx: ControlDir, name: string, verb: string): Promise<void> {
  const stages = await ctx.loadManifests().then(allStages, () => []);
  // No playbook to compare with (or manifests that do not load): the status file's request decides.
  if (stages.length === 0) return;
  const stage = stages.find((s) => s.name === name);
  if (stage === undefined) throw new NotFoundError(`no stage "${name}" in any Playbook (known: ${stages.map((s) => s.name).join(", ") || "none"}); nothing to ${verb}`);
  if (!stageNeedsApproval(stage)) {
    throw new ApprovalError("NOT_REQUIRED", `stage "${name}" needs no approval (approval: none and no needs): it starts by itself once the controller runs, so there is nothing to ${verb}`);
  }
}
