/** Session verbs: createSession, sendCommand, readOutput, closeSession. */
import { CommandFailedError, CommandStrandedError, type GafferError } from "../errors.js";
import * as service from "../sessions/index.js";
import type { CommandRecord } from "../../state/commands.repository.js";
import type { SessionRecord } from "../../state/sessions.repository.js";
import type { ControlDir } from "./control-dir.js";
import { sessionContext } from "./contexts.js";
import { requireAppliedTask, requireTaskWorktree, requireWorkingStage, type Override } from "./gatekeeper.js";

/** What `session create` / create_session asks for. */
export interface CreateSessionRequest {
  readonly task: string;
  readonly agent: string;
  /** Default: the agent's first model. */
  readonly model?: string;
  /** Capacity role; default: the task's role. */
  readonly role?: string;
  /** A directory the caller named: it must be the task's own worktree (PATH_ESCAPE otherwise). */
  readonly worktree?: string;
  /** A person's override of the stage check (CLI only). */
  readonly override?: Override | null;
}

/**
 * Starts an agent session for a task in the task's own worktree, reserving
 * capacity: the task must be in the applied manifests and its stage Running
 * (or overridden by a person).
 */
export async function createSession(ctx: ControlDir, request: CreateSessionRequest): Promise<SessionRecord> {
  const verb = "createSession";
  const task = await requireAppliedTask(ctx, verb, request.task);
  await requireWorkingStage(ctx, verb, task, request.override ?? null);
  const worktree = await requireTaskWorktree(ctx, verb, request.task, request.worktree);
  const role = request.role ?? task.spec.role;
  return service.createSession(await sessionContext(ctx), { task: request.task, agent: request.agent, role, stage: task.spec.stage, worktree, ...(request.model === undefined ? {} : { model: request.model }) });
}

/** What `session send` / send_command asks for. */
export interface SendCommandRequest {
  readonly sessionId: string;
  readonly text: string;
  readonly waitFor: "acknowledged" | "done";
  readonly timeoutMs?: number;
}

/** Sends text to one open session through its ledgered queue (SESSION_NOT_FOUND for an unknown or closed one). */
export async function sendCommand(ctx: ControlDir, request: SendCommandRequest): Promise<CommandRecord> {
  return service.sendCommand(await sessionContext(ctx), { sessionId: request.sessionId, text: request.text, waitFor: request.waitFor, ...(request.timeoutMs === undefined ? {} : { timeoutMs: request.timeoutMs }) });
}

/** The session's latest output and status hint (records what it observed in the ledger). */
export async function readOutput(ctx: ControlDir, request: service.ReadOutputInput): Promise<service.SessionOutput> {
  return service.readSessionOutput(await sessionContext(ctx), request);
}

/** Kills the session, marks it closed and releases its slot; closing a closed one changes nothing. */
export async function closeSession(ctx: ControlDir, sessionId: string): Promise<service.CloseResult> {
  return service.closeSession(await sessionContext(ctx), sessionId);
}

/** The error a finished send stands for (stranded or failed), or null when it was taken up. */
export function commandOutcomeError(command: CommandRecord): GafferError | null {
  const id = command.sessionId;
  if (command.state === "stranded") return new CommandStrandedError(`command ${command.seq} was not taken up by session ${id}: ${String(command.evidence?.reason ?? "no evidence")}; look at it with \`gaffer session attach ${id}\``);
  if (command.state === "failed") return new CommandFailedError(`command ${command.seq} failed in session ${id}: ${command.summary ?? String(command.evidence?.reason ?? "no evidence")}; \`gaffer session read ${id}\` shows the output`);
  return null;
}
