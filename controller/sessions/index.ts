// The session service: one set of functions for the CLI, the controller and the MCP server.
export { DEFAULT_TIMING, type SessionServiceContext, type SessionTiming } from "./context.js";
export { createSession, type CreateSessionInput } from "./create-session.js";
export { sendCommand, drainQueue, type SendCommandInput } from "./send-command.js";
export { readSessionOutput, type ReadOutputInput, type SessionOutput } from "./read-output.js";
export { closeSession, closeAllSessions, type CloseResult } from "./close-session.js";
export { checkSessionHealth, recoverSession, superviseSessions, type HealthReport, type RecoveryOutcome } from "./health.js";
