import { dialectOf } from "./dialect.js";
import { appendEvent } from "./events.repository.js";
import { immediateTransaction, nowIso, type Ledger } from "./ledger.js";

/** A recorded verdict on one `approvals:` entry. */
export interface ApprovalRecord {
  readonly id: number;
  readonly stage: string;
  readonly requestId: string;
  readonly decision: string;
  readonly authorEmail: string | null;
  readonly commitSha: string | null;
  readonly comment: string | null;
  /** Granted | Rejected | Stale | Unauthorized | Uncommitted | SelfApproval | Unsigned */
  readonly verdict: string;
  readonly reason: string | null;
  readonly recordedAt: string;
}

/** One judged `approvals:` entry, as recorded (the approval rules' EntryJudgement has this shape). */
export interface VerdictToRecord {
  readonly requestId: string;
  readonly decision: string;
  readonly comment: string | null;
  readonly line: number;
  readonly commit: { readonly sha: string; readonly authorEmail: string } | null;
  readonly verdict: string;
  readonly message: string;
}

/** A stage's approval judgement, as recorded (the approval rules' ApprovalJudgement has this shape). */
export interface JudgementToRecord {
  readonly requestId: string;
  readonly reason: string;
  readonly message: string;
  readonly approvers: readonly string[];
  readonly verdicts: readonly VerdictToRecord[];
}

export interface RecordVerdictsInput {
  readonly stage: string;
  readonly judgement: JudgementToRecord;
  readonly actor: string;
}

/**
 * Records the verdicts of one evaluation, idempotently: an entry (request,
 * decision, comment, commit) gets a row and an event only when its verdict is
 * new, so a controller pass over unchanged approvals records nothing. Events:
 * `ApprovalRejected` for each refused entry (and each counted rejection),
 * `ApprovalCounted` for each counted approval, and `ApprovalGranted` once per
 * request when the stage's approval is granted. Returns how many rows were added.
 */
export async function recordApprovalVerdicts(db: Ledger, input: RecordVerdictsInput): Promise<number> {
  return immediateTransaction(db, async (trx) => {
    let added = 0;
    const at = nowIso();
    for (const verdict of input.judgement.verdicts) {
      if (await hasVerdict(trx, input.stage, verdict)) continue;
      await trx
        .insertInto("approvals")
        .values({ stage: input.stage, request_id: verdict.requestId, decision: verdict.decision, author_email: verdict.commit?.authorEmail ?? null, commit_sha: verdict.commit?.sha ?? null, comment: verdict.comment, verdict: verdict.verdict, reason: verdict.message, recorded_at: at })
        .execute();
      const payload = { requestId: verdict.requestId, decision: verdict.decision, verdict: verdict.verdict, authorEmail: verdict.commit?.authorEmail ?? null, comment: verdict.comment, line: verdict.line, message: verdict.message };
      await appendEvent(trx, { at, actor: input.actor, action: verdict.verdict === "Granted" ? "ApprovalCounted" : "ApprovalRejected", subject: `stage/${input.stage}`, payload, commitSha: verdict.commit?.sha ?? null });
      added += 1;
    }
    if (input.judgement.reason === "Granted" && !(await hasGrantEvent(trx, input.stage, input.judgement.requestId))) {
      await appendEvent(trx, { at, actor: input.actor, action: "ApprovalGranted", subject: `stage/${input.stage}`, payload: { requestId: input.judgement.requestId, approvers: input.judgement.approvers, message: input.judgement.message } });
    }
    return added;
  });
}

async function hasVerdict(db: Ledger, stage: string, v: VerdictToRecord): Promise<boolean> {
  const row = await db
    .selectFrom("approvals")
    .select("id")
    .where("stage", "=", stage)
    .where("request_id", "=", v.requestId)
    .where("decision", "=", v.decision)
    .where("verdict", "=", v.verdict)
    .where("comment", "is not distinct from", v.comment)
    .where("commit_sha", "is not distinct from", v.commit?.sha ?? null)
    .executeTakeFirst();
  return row !== undefined;
}

async function hasGrantEvent(db: Ledger, stage: string, requestId: string): Promise<boolean> {
  const row = await db
    .selectFrom("events")
    .select("id")
    .where("action", "=", "ApprovalGranted")
    .where("subject", "=", `stage/${stage}`)
    .where(dialectOf(db).jsonText("payload", "requestId"), "=", requestId)
    .executeTakeFirst();
  return row !== undefined;
}

/** Recorded verdicts, oldest first, optionally of one stage. */
export async function listApprovalRecords(db: Ledger, stage?: string): Promise<ApprovalRecord[]> {
  let query = db.selectFrom("approvals").selectAll().orderBy("id");
  if (stage !== undefined) query = query.where("stage", "=", stage);
  const rows = await query.execute();
  return rows.map((r) => ({ id: r.id, stage: r.stage, requestId: r.request_id, decision: r.decision, authorEmail: r.author_email, commitSha: r.commit_sha, comment: r.comment, verdict: r.verdict, reason: r.reason, recordedAt: r.recorded_at }));
}
