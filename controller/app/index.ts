/**
 * The application layer: one function per verb of the tool contract, the
 * single gatekeeper for every entry point (the CLI verbs in controller/cli/,
 * the MCP tools in controller/mcp/). Entry points parse, call a verb here,
 * and print; they never re-implement a check.
 *
 * Conventions for a verb (add new ones as their own file here, e.g. retry.ts):
 * - Signature `verb(ctx: ControlDir, request)`: `ctx` gives the ledger, the
 *   applied (valid) manifests, config and agents, plus `actor` and `entry`
 *   ("cli" | "mcp"); the services it calls get their ports from contexts.ts.
 * - Check before acting, with gatekeeper.ts: `requireAppliedTask` (NOT_FOUND),
 *   `requireWorkingStage` (POLICY_STAGE_NOT_APPROVED / POLICY_STAGE_NOT_RUNNING;
 *   a person's `Override` from the CLI is ledgered as `OverrideUsed`, and is
 *   refused from MCP or inside a session), `requireTaskWorktree` (PATH_ESCAPE,
 *   NOT_FOUND). Every refusal goes through `refuse()`: a coded error plus an
 *   `ActionRefused` event (verb, code, message, entry point).
 * - Return the service's result or throw a GafferError; never print.
 * - `mcp/` and `cli/` import from here; this layer imports neither.
 */
export { ControlDir, type EntryPoint } from "./control-dir.js";
export { sessionContext, workspaceContext } from "./contexts.js";
export { insideSession, refuse, requireAppliedTask, requireTaskWorktree, requireWorkingStage, SESSION_ENV, WORKING_STAGE_PHASES, type Override } from "./gatekeeper.js";
export { closeSession, commandOutcomeError, createSession, readOutput, sendCommand, type CreateSessionRequest, type SendCommandRequest } from "./sessions.js";
export { BY_HAND, commitChanges, createWorktrees, mergeTask, resolveConflict, runGate, type CommitRequest, type HandResolution, type TaskRequest } from "./workspace.js";
export { proposeStage, stageAllocation } from "./planning.js";
export { requestStageApproval, type StageApprovalRequest } from "./stage-approval.js";
export { decideStage, type StageDecisionRequest } from "./approvals.js";
export { listSessions, listStages, listTasks, type StageView, type TaskView } from "./listing.js";
export { observeSessionsOnce } from "./session-observation.js";
