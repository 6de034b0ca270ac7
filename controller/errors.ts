/**
 * Every failure a user can meet, one class per kind, each with a literal `code`.
 * The CLI prints `error: CODE: message`; `exitCode` says how the process ends
 * (1: refused or failed action, 2: usage error).
 * The base class and the errors the ledger raises live in state/errors.ts
 * (state/ imports nothing from controller/) and are re-exported here: every
 * error is still imported from this one module.
 */
import { GafferError } from "../state/errors.js";

export {
  GafferError,
  isGafferError,
  LedgerCorruptError,
  LedgerLockedError,
  LedgerDiskFullError,
  LedgerReadonlyError,
  LedgerMissingError,
  LedgerMigrationError,
  LedgerUnreachableError,
  LedgerUrlInvalidError,
  LedgerTargetNotEmptyError,
  LedgerUnsupportedError,
  CapacityExceededError,
} from "../state/errors.js";

export class UsageError extends GafferError {
  readonly code = "USAGE";
  override readonly exitCode = 2;
}

export class ManifestInvalidError extends GafferError {
  readonly code = "MANIFEST_INVALID";
}

export class NotFoundError extends GafferError {
  readonly code = "NOT_FOUND";
}

export class AlreadyExistsError extends GafferError {
  readonly code = "ALREADY_EXISTS";
}

export class AllocationBlockedError extends GafferError {
  readonly code = "ALLOCATION_BLOCKED";
}

export class SessionNotFoundError extends GafferError {
  readonly code = "SESSION_NOT_FOUND";
}

export class SessionStartError extends GafferError {
  readonly code = "SESSION_START_FAILED";
}

export class InvalidNameError extends GafferError {
  readonly code = "INVALID_NAME";
}

export class TmuxError extends GafferError {
  readonly code = "TMUX_FAILED";
}

/** A pane whose real argv or working directory is not the one gaffer launched. */
export class LaunchMismatchError extends GafferError {
  readonly code = "LAUNCH_MISMATCH";
}

export class GitError extends GafferError {
  readonly code = "GIT_FAILED";
}

export class MergeConflictError extends GafferError {
  readonly code = "MERGE_CONFLICT";
}

export class WorktreeConflictError extends GafferError {
  readonly code = "WORKTREE_CONFLICT";
}

export class PathEscapeError extends GafferError {
  readonly code = "PATH_ESCAPE";
}

export class UncommittedWorkError extends GafferError {
  readonly code = "UNCOMMITTED_WORK";
}

/** A guardrail refusal: `code` is `POLICY_<RULE>` (e.g. POLICY_COMMIT_FORMAT). */
export class PolicyError extends GafferError {
  readonly code: `POLICY_${string}`;
  constructor(rule: string, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options);
    this.code = `POLICY_${rule}`;
  }
}

export class ApprovalError extends GafferError {
  readonly code: `APPROVAL_${string}`;
  constructor(reason: string, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options);
    this.code = `APPROVAL_${reason}`;
  }
}

export class ControllerLockedError extends GafferError {
  readonly code = "CONTROLLER_LOCKED";
}

export class GateFailedError extends GafferError {
  readonly code = "GATE_FAILED";
}

/** `gaffer demo` stopped at a step; everything is left for inspection. */
export class DemoFailedError extends GafferError {
  readonly code = "DEMO_FAILED";
}

/** Anything not anticipated: a bug. The message asks for a report. */
export class InternalError extends GafferError {
  readonly code = "INTERNAL";
}

export class InvalidTextError extends GafferError {
  readonly code = "INVALID_TEXT";
}

export class CommandStrandedError extends GafferError {
  readonly code = "COMMAND_STRANDED";
}

/** A merge that cannot land yet for a reason outside the task (e.g. a dirty checkout of the integration branch). */
export class MergeBlockedError extends GafferError {
  readonly code = "MERGE_BLOCKED";
}

/** A status file that does not parse: the controller will not overwrite it (it may hold people's approvals). */
export class StatusFileInvalidError extends GafferError {
  readonly code = "STATUS_FILE_INVALID";
}

export class CommandFailedError extends GafferError {
  readonly code = "COMMAND_FAILED";
}

export class AgentConfigError extends GafferError {
  readonly code = "AGENT_CONFIG_INVALID";
}

/** A file or directory the user named cannot be read or written (missing, a directory, no permission). */
export class FileAccessError extends GafferError {
  readonly code = "FILE_ACCESS";
}

const FILE_ERRNO_HINTS: Readonly<Record<string, string>> = {
  ENOENT: "it does not exist (check the path; a file to write needs an existing directory)",
  EACCES: "permission denied (check its permissions)",
  EPERM: "permission denied (check its permissions)",
  EISDIR: "it is a directory (give a file)",
  ENOTDIR: "a part of the path is not a directory (check the path)",
  EROFS: "the file system is read-only (pick another path)",
};

/**
 * A coded error for a file system failure on a path the user gave
 * (`verb` says what was tried: "read", "write the report to"), or null when
 * `error` is not such a failure.
 */
export function userMistake(error: unknown, verb = "open"): GafferError | null {
  const errno = error as NodeJS.ErrnoException | null;
  const hint = typeof errno?.code === "string" ? FILE_ERRNO_HINTS[errno.code] : undefined;
  if (hint === undefined || typeof errno?.path !== "string") return null;
  return new FileAccessError(`cannot ${verb} ${errno.path}: ${hint}`, { cause: error, details: { path: errno.path, errno: errno.code } });
}

/** An agent's binary is not on PATH (or its manifest command does not exist): install it or fix the command. */
export class AgentNotInstalledError extends GafferError {
  readonly code = "AGENT_NOT_INSTALLED";
}

/** An agent finished its prompt, and a follow-up, without changing anything in the task's worktree. */
export class NoChangesError extends GafferError {
  readonly code = "NO_CHANGES";
}

/** An agent host could not be reached over SSH (connection refused or lost, authentication, host key). */
export class HostUnreachableError extends GafferError {
  readonly code = "HOST_UNREACHABLE";
}
