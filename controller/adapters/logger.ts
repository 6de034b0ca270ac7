import { createRequire } from "node:module";
import pino, { type Logger } from "pino";

/**
 * pino to stderr (stdout stays for `--json` output): JSON lines, or
 * pino-pretty when stderr is a terminal and it is installed.
 */
export function createLogger(options: { readonly level?: string } = {}): Logger {
  const level = options.level ?? process.env.GAFFER_LOG_LEVEL ?? "info";
  if (process.stderr.isTTY) {
    try {
      createRequire(import.meta.url).resolve("pino-pretty");
      return pino({ level, transport: { target: "pino-pretty", options: { destination: 2, translateTime: "HH:MM:ss.l", ignore: "pid,hostname" } } });
    } catch {
      // pino-pretty not installed: plain JSON below
    }
  }
  return pino({ level }, pino.destination({ fd: 2, sync: true }));
}
