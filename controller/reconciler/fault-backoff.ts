import type { Logger } from "pino";
import { isGafferError } from "../errors.js";

/** What the pass loop needs to retry a failed pass later. */
export interface FaultBackoffOptions {
  readonly logger: Logger;
  /** Requests the next pass. */
  readonly retry: () => void;
  readonly initialMs?: number;
  readonly maxMs?: number;
}

function codeOf(error: unknown): string {
  if (isGafferError(error)) return error.code;
  return String((error as { code?: unknown } | null)?.code ?? "PASS_FAILED");
}

/**
 * Retries failed passes with exponential backoff (0.5 s doubling to 30 s) and
 * logs a fault once when it starts or changes, not on every retry, and once
 * more when a pass succeeds again. The log goes to pino (stderr), so a fault
 * of the ledger itself (LEDGER_DISK_FULL, LEDGER_READONLY...) is still seen.
 */
export class FaultBackoff {
  private code: string | null = null;
  private since = 0;
  private retries = 0;
  private delayMs: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: FaultBackoffOptions) {
    this.delayMs = options.initialMs ?? 500;
  }

  /** True while the last pass failed (the ledger may be unwritable: other loops may hold back). */
  get faulted(): boolean {
    return this.code !== null;
  }

  /** Logs the fault (when new) and schedules a retry. */
  failed(error: unknown): void {
    const code = codeOf(error);
    const message = (error as Error | null)?.message ?? String(error);
    if (code !== this.code) {
      this.options.logger.error({ code, err: error }, `${code}: ${message}; retrying with backoff`);
      if (this.code === null) this.since = Date.now();
      this.code = code;
    } else {
      this.options.logger.debug({ code, retries: this.retries, delayMs: this.delayMs }, `${code}: still failing`);
    }
    this.retries += 1;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.options.retry(), this.delayMs);
    this.delayMs = Math.min(this.delayMs * 2, this.options.maxMs ?? 30_000);
  }

  /** A pass went through: logs the recovery if there was a fault, and resets the backoff. */
  succeeded(): void {
    if (this.code !== null) {
      this.options.logger.info({ code: this.code, retries: this.retries, downMs: Date.now() - this.since }, `${this.code} cleared after ${this.retries} failed pass(es); the controller goes on`);
    }
    this.code = null;
    this.retries = 0;
    this.delayMs = this.options.initialMs ?? 500;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}
