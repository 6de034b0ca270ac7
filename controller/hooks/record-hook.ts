import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { usageFromClaudeTranscript, usageFromCodexRollout, type TokenUsage } from "../core/token-usage.js";
import { openLedgerAt } from "../../state/ledger.js";
import { ledgerTargetOf } from "../manifest/ledger-location.js";
import { appendAgentEvent, hookKind } from "../../state/agent-events.repository.js";
import { hookFields, parseHookInput } from "./hook-payload.js";

/** A hook call gives up (and exits 0) after this long: an agent must never wait on gaffer. */
export const HOOK_BUDGET_MS = 4000;

/** Transcripts are read up to this size for token usage. */
const MAX_TRANSCRIPT_BYTES = 32 * 1024 * 1024;

export interface HookCall {
  readonly agent: string;
  readonly event: string;
  readonly sessionId: string;
  readonly controlDir: string;
  /** The hook's input: stdin (claude) or the last argument (codex `notify`). */
  readonly input: string;
}

/** Where hook failures are written (never to the agent's terminal). */
export function hookLogFile(controlDir: string): string {
  return join(controlDir, ".gaffer", "hooks.log");
}

function readBounded(file: string): string | null {
  if (!existsSync(file) || statSync(file).size > MAX_TRANSCRIPT_BYTES) return null;
  const fd = openSync(file, "r");
  try {
    const buf = Buffer.alloc(statSync(file).size);
    readSync(fd, buf, 0, buf.length, 0);
    return buf.toString("utf8");
  } finally {
    closeSync(fd);
  }
}

/** codex names no file in `notify`: its rollout is `$CODEX_HOME/sessions/Y/M/D/rollout-…-<thread-id>.jsonl`. */
function codexRollout(threadId: string): string | null {
  const root = join(process.env.CODEX_HOME ?? join(homedir(), ".codex"), "sessions");
  if (!existsSync(root)) return null;
  const hit = (readdirSync(root, { recursive: true }) as string[]).filter((f) => f.endsWith(`${threadId}.jsonl`)).sort().pop();
  return hit === undefined ? null : join(root, hit);
}

/** Token totals so far, read from the agent's own transcript when the event ends a turn. */
function usageAt(agent: string, kind: string, fields: { transcriptPath: string | null; payload: Record<string, unknown> }): { usage: TokenUsage | null; transcript: string | null } {
  if (kind !== "turn-finished" && kind !== "failed") return { usage: null, transcript: fields.transcriptPath };
  if (agent === "claude" && fields.transcriptPath !== null) {
    const text = readBounded(fields.transcriptPath);
    return { usage: text === null ? null : usageFromClaudeTranscript(text), transcript: fields.transcriptPath };
  }
  const thread = fields.payload["thread-id"];
  if (agent === "codex" && typeof thread === "string" && /^[\w-]+$/.test(thread)) {
    const file = codexRollout(thread);
    const text = file === null ? null : readBounded(file);
    return { usage: text === null ? null : usageFromCodexRollout(text), transcript: file };
  }
  return { usage: null, transcript: fields.transcriptPath };
}

/**
 * Records one hook call as an agent event in the control dir's ledger (works
 * with or without a running controller). Throws on failure: the CLI entry
 * point logs it and still exits 0.
 */
export async function recordHook(call: HookCall): Promise<number> {
  const fields = hookFields(call.agent, call.event, parseHookInput(call.input));
  const kind = hookKind(fields.event);
  const { usage, transcript } = usageAt(call.agent, kind, fields);
  const db = await openLedgerAt(await ledgerTargetOf(call.controlDir), { busyTimeoutMs: 2000 });
  try {
    return await appendAgentEvent(db, { sessionId: call.sessionId, agent: call.agent, event: fields.event, prompt: fields.prompt, reason: fields.reason, transcriptPath: transcript, usage, payload: fields.payload });
  } finally {
    await db.destroy();
  }
}

/** Appends one line to the hook log; never throws. */
export function logHookFailure(controlDir: string, call: Omit<HookCall, "input" | "controlDir">, error: unknown): void {
  try {
    mkdirSync(join(controlDir, ".gaffer"), { recursive: true });
    appendFileSync(hookLogFile(controlDir), `${new Date().toISOString()} ${call.agent} ${call.event} session=${call.sessionId}: ${error instanceof Error ? error.message : String(error)}\n`);
  } catch {
    // Nowhere left to report: the agent must not notice.
  }
}
