/** decideStage: `gaffer approve|reject STAGE`, a person's committed status-file edit. Never from MCP, never inside a session. */
import type { ApprovalDecision } from "../core/status-types.js";
import { insideSession } from "../core/session-marker.js";
import { allStages, stageNeedsApproval } from "../core/project-config.js";
import { ApprovalError, NotFoundError } from "../errors.js";
import { commitApprovalDecision, type CommittedDecision } from "../governance/approval-commit.js";
import { appendEvent } from "../../state/events.repository.js";
import type { ControlDir } from "./control-dir.js";
import { refuse } from "./gatekeeper.js";

export interface StageDecisionRequest {
  readonly stage: string;
  readonly decision: ApprovalDecision;
  readonly comment: string | null;
  /** Sign the commit (`git commit -S`), for policy.requireSignedApprovals. */
  readonly sign?: boolean;
}

/**
 * Appends the decision for the stage's current request to its status file
 * and commits just that file as the current git user (`ApprovalCommitted`).
 * Refused (APPROVAL_FROM_SESSION) inside a gaffer session and from any entry
 * point but the CLI: an agent never approves.
 */
export async function decideStage(ctx: ControlDir, request: StageDecisionRequest): Promise<CommittedDecision> {
  const verb = request.decision === "approved" ? "approveStage" : "rejectStage";
  const subject = `stage/${request.stage}`;
  const session = insideSession();
  if (session !== null) {
    const word = request.decision === "approved" ? "approve" : "reject";
    throw await refuse(ctx, verb, subject, new ApprovalError("FROM_SESSION", `refusing to ${word} stage ${request.stage} from inside gaffer session ${session} (GAFFER_SESSION is set): approvals are a person's decision; run \`gaffer ${word} ${request.stage}\` from your own shell`, { details: { session } }));
  }
  if (ctx.entry !== "cli") throw await refuse(ctx, verb, subject, new ApprovalError("FROM_SESSION", `the ${ctx.entry} entry point cannot approve or reject: a person runs \`gaffer approve ${request.stage}\``));
  await requireApprovableStage(ctx, request.stage, verb, request.decision === "approved" ? "approve" : "reject");
  const done = await commitApprovalDecision({ dir: ctx.dir, stage: request.stage, decision: request.decision, comment: request.comment, sign: request.sign === true });
  await appendEvent(await ctx.openLedger(), { actor: ctx.actor, action: "ApprovalCommitted", subject, payload: { requestId: done.requestId, decision: request.decision, comment: request.comment, authorEmail: done.authorEmail, file: done.file }, commitSha: done.commit });
  return done;
}

/** An unknown stage, or one that needs no approval, is said so before anything is written. */
async function requireApprovableStage(ctx: ControlDir, name: string, verb: string, word: string): Promise<void> {
  const stages = await ctx.loadManifests().then(allStages, () => []);
  // No playbook to compare with (or manifests that do not load): the status file's request decides.
  if (stages.length === 0) return;
  const stage = stages.find((s) => s.name === name);
  if (stage === undefined) throw await refuse(ctx, verb, `stage/${name}`, new NotFoundError(`no stage "${name}" in any Playbook (known: ${stages.map((s) => s.name).join(", ") || "none"}); nothing to ${word}`));
  if (!stageNeedsApproval(stage)) {
    throw await refuse(ctx, verb, `stage/${name}`, new ApprovalError("NOT_REQUIRED", `stage "${name}" needs no approval (approval: none and no needs): it starts by itself once the controller runs, so there is nothing to ${word}`));
  }
}
