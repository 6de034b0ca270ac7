/**
 * request_stage_approval: writes the stage's proposal and approval request
 * into `status/stages/<stage>.yaml` (the same planStage the controller uses,
 * so the same digest and request id), keeping the person-owned `approvals:`
 * block, and reports where the request stands. It never approves: only a
 * committed `approvals:` entry by an approver does (`gaffer approve STAGE`).
 */
import { approvedCondition, type ApprovedReason } from "../core/approval-rules.js";
import { setCondition } from "../core/conditions.js";
import type { ConditionStatus, StageProposal } from "../core/status-types.js";
import { ApprovalError } from "../errors.js";
import { evaluateApprovals } from "../governance/approvals.js";
import type { ControlDir } from "./control-dir.js";
import { appendEvent } from "../../state/events.repository.js";
import { nowIso } from "../../state/ledger.js";
import { readStageStatus, writeStageStatus } from "../status/status-store.js";
import { refuse } from "./gatekeeper.js";
import { proposeStage } from "./planning.js";

export interface StageApprovalRequest {
  readonly stage: string;
  /** `<stage>-<planDigest[:12]>`: what an `approvals:` entry answers. */
  readonly requestId: string;
  readonly planDigest: string;
  readonly requiredApprovals: number;
  readonly proposal: StageProposal;
  /** The status file, relative to the control dir. */
  readonly file: string;
  /** False when the file already held exactly this request. */
  readonly written: boolean;
  /** Whether committed approvals already grant this exact request (never granted by this call). */
  readonly approved: boolean;
  /** The `Approved` condition as the rules judge it now. */
  readonly approval: { readonly status: ConditionStatus; readonly reason: ApprovedReason; readonly message: string };
  /** What a person does to approve (or reject). */
  readonly howToApprove: string;
}

/** Writes the stage's proposal and request (APPROVAL_NOT_REQUIRED for a stage that needs none) and ledgers `ApprovalRequested`. */
export async function requestStageApproval(ctx: ControlDir, stageName: string): Promise<StageApprovalRequest> {
  const plan = await proposeStage(ctx, stageName);
  const request = plan.request;
  if (request === null) throw await refuse(ctx, "requestStageApproval", `stage/${stageName}`, new ApprovalError("NOT_REQUIRED", `stage "${stageName}" needs no approval (it has no needs and approval: none); it runs without one`));
  const config = await ctx.config();
  const generation = (await ctx.loadManifests()).generation;
  const judgement = (await evaluateApprovals({ dir: ctx.dir, stage: stageName, policy: config.policy, request }))!;
  const current = (await readStageStatus(ctx.dir, stageName)).status;
  const write = await writeStageStatus(ctx.dir, stageName, {
    observedGeneration: current?.observedGeneration ?? generation,
    phase: current?.phase ?? "Pending",
    conditions: setCondition(current?.conditions ?? [], approvedCondition(judgement, generation), nowIso()),
    ...(current?.details === undefined ? {} : { details: current.details }),
    proposal: plan.proposal,
    approvalRequest: request,
  });
  const approved = judgement.reason === "Granted";
  const howToApprove = `an approver (${config.policy.approvers.join(", ") || "none in policy.approvers yet"}) reviews the proposal in ${write.file} and runs \`gaffer approve ${stageName}\` (or \`gaffer reject ${stageName}\`) in ${ctx.dir}: the approval counts once committed`;
  await appendEvent(await ctx.openLedger(), {
    actor: ctx.actor,
    action: "ApprovalRequested",
    subject: `stage/${stageName}`,
    payload: { requestId: request.id, planDigest: request.planDigest, requiredApprovals: request.requiredApprovals, file: write.file, written: write.changed, approval: judgement.reason },
  });
  return {
    stage: stageName, requestId: request.id, planDigest: request.planDigest, requiredApprovals: request.requiredApprovals, proposal: plan.proposal,
    file: write.file, written: write.changed, approved, approval: { status: judgement.status, reason: judgement.reason, message: judgement.message }, howToApprove,
  };
}
