import type { ApprovalDecision } from "../core/status-types.js";
import { ApprovalError, GitError } from "../errors.js";
import { appendStageApproval, readStageStatus, restoreStatusText } from "../status/status-store.js";
import { runGit, type GitResult } from "./git-cli.js";

/** How long approve waits for another git process (an editor's `git status`, a person's commit) to release `index.lock`. */
const INDEX_LOCK_WAIT_MS = [100, 200, 400, 800, 1600];

/** Runs a git write again while another process holds `index.lock`, for about 3 s; any other failure, or a lock that stays, throws. */
async function whileIndexLocked(write: () => Promise<GitResult>): Promise<GitResult> {
  for (const wait of INDEX_LOCK_WAIT_MS) {
    try {
      return await write();
    } catch (error) {
      const stderr = error instanceof GitError ? String(error.details.stderr ?? "") : "";
      if (!stderr.includes("index.lock")) throw error;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
  return write();
}

export interface CommitDecisionInput {
  readonly dir: string;
  readonly stage: string;
  readonly decision: ApprovalDecision;
  readonly comment: string | null;
  /** Sign the commit (`git commit -S`), for `policy.requireSignedApprovals`. */
  readonly sign?: boolean;
}

export interface CommittedDecision {
  readonly stage: string;
  readonly requestId: string;
  readonly decision: ApprovalDecision;
  readonly file: string;
  readonly commit: string;
  readonly authorEmail: string;
}

/**
 * `gaffer approve|reject`: appends `{requestId, decision, comment}` for the
 * stage's current approval request to its status file (nothing else in the
 * file changes) and commits just that file as the current git user. On a
 * failed commit the file is put back as it was.
 */
export async function commitApprovalDecision(input: CommitDecisionInput): Promise<CommittedDecision> {
  const read = await readStageStatus(input.dir, input.stage);
  const request = read.status?.approvalRequest;
  if (request === undefined || request === null) {
    throw new ApprovalError("NO_REQUEST", `stage "${input.stage}" has no approval request in ${read.file}; run \`gaffer up\` so the controller proposes its plan (\`gaffer plan ${input.stage}\` shows it)`);
  }
  const inside = await runGit(input.dir, ["rev-parse", "--is-inside-work-tree"], { check: false });
  if (inside.exitCode !== 0 || inside.stdout.trim() !== "true") {
    throw new ApprovalError("NOT_IN_GIT", `${input.dir} is not inside a git work tree; approvals count only once committed, so make the control dir a git repo first (\`git init\`)`);
  }
  const edit = await appendStageApproval(input.dir, input.stage, { requestId: request.id, decision: input.decision, comment: input.comment });
  const verb = input.decision === "approved" ? "approve" : "reject";
  try {
    await whileIndexLocked(() => runGit(input.dir, ["add", "--", edit.file]));
    await whileIndexLocked(() => runGit(input.dir, ["commit", "-q", ...(input.sign === true ? ["-S"] : []), "-m", `chore(approval): ${verb} ${input.stage} (${request.id})`, "--", edit.file]));
  } catch (error) {
    await runGit(input.dir, ["reset", "-q", "--", edit.file], { check: false });
    await restoreStatusText(input.dir, edit.file, edit.before, edit.after);
    throw error;
  }
  const head = await runGit(input.dir, ["log", "-1", "--format=%H%x00%ae"]);
  const [commit, authorEmail] = head.stdout.trim().split("\0");
  return { stage: input.stage, requestId: request.id, decision: input.decision, file: edit.file, commit: commit!, authorEmail: authorEmail ?? "" };
}
