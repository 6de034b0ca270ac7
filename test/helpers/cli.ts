import { execa } from "execa";
import { fileURLToPath } from "node:url";

export const GAFFER_BIN = fileURLToPath(new URL("../../controller/gaffer.js", import.meta.url));

export interface CliResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the real `gaffer` executable in a child process. */
export async function runGaffer(args: readonly string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  const result = await execa(process.execPath, [GAFFER_BIN, ...args], { cwd: options.cwd, env: { TMUX: "", ...options.env }, reject: false });
  return { exitCode: result.exitCode ?? 1, stdout: result.stdout, stderr: result.stderr };
}
