import { resolve } from "node:path";
import { HOOK_BUDGET_MS, logHookFailure, recordHook } from "./record-hook.js";

/** Reads stdin up to `max` bytes; "" when it is a terminal or stays silent past the deadline. */
async function readStdin(max: number, deadline: number): Promise<string> {
  if (process.stdin.isTTY) return "";
  const chunks: Buffer[] = [];
  let size = 0;
  return new Promise((done) => {
    const finish = (): void => {
      clearTimeout(timer);
      process.stdin.pause();
      done(Buffer.concat(chunks).toString("utf8"));
    };
    const timer = setTimeout(finish, Math.max(0, deadline - Date.now()));
    process.stdin.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= max) chunks.push(c);
    });
    process.stdin.on("end", finish);
    process.stdin.on("error", finish);
  });
}

export interface RunHookInput {
  readonly agent: string;
  readonly event: string;
  /** The payload given as an argument (codex `notify`); else stdin is read. */
  readonly payload: string | undefined;
  readonly sessionId: string;
  /** The control dir whose ledger gets the event. */
  readonly dir: string;
}

/**
 * One hook call: appends the event to the ledger and prints nothing (claude
 * reads a hook's stdout as context). Never throws and never takes longer than
 * HOOK_BUDGET_MS: any failure goes to `.gaffer/hooks.log`, the agent goes on.
 */
export async function runHook(input: RunHookInput): Promise<void> {
  const started = Date.now();
  const controlDir = resolve(input.dir);
  const call = { agent: input.agent, event: input.event, sessionId: input.sessionId };
  // The hard limit: whatever hangs (a locked ledger, a slow disk), the agent gets exit 0 in time.
  const guard = setTimeout(() => {
    logHookFailure(controlDir, call, new Error(`gave up after ${HOOK_BUDGET_MS} ms`));
    process.exit(0);
  }, HOOK_BUDGET_MS);
  guard.unref();
  try {
    const text = input.payload ?? (await readStdin(1024 * 1024, started + 1000));
    await recordHook({ ...call, controlDir, input: text });
  } catch (error) {
    logHookFailure(controlDir, call, error);
  } finally {
    clearTimeout(guard);
  }
}
