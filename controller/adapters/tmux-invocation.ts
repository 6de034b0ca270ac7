/**
 * Where a tmux command runs: the tmux on this machine, or the one on an agent
 * host through ssh (`ssh ... -- DEST tmux -L SOCKET ...`, every argument
 * quoted for the remote shell; see ssh.ts).
 */
import { execa } from "execa";
import type { ResolvedHost } from "../core/hosts.js";
import { sshArgv } from "./ssh.js";

/** The program and argv that run `tmux ...args` on `host` (null: this machine). */
export function tmuxInvocation(host: ResolvedHost | null, args: readonly string[], options: { readonly tty?: boolean } = {}): { readonly file: string; readonly args: string[] } {
  if (host === null) return { file: "tmux", args: [...args] };
  return { file: "ssh", args: sshArgv(host, ["tmux", ...args], options) };
}

/** The environment tmux runs with: ours, minus TMUX (so it never talks to an enclosing tmux). */
export function tmuxEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.TMUX;
  delete env.TMUX_PANE;
  return env;
}

/**
 * Ends a remote pane's process group (SIGTERM, then SIGKILL after a grace),
 * as killProcessGroup does here. The pid is a number, so the script holds no
 * outside text.
 */
export async function killRemoteGroup(host: ResolvedHost, pgid: number, graceMs = 500): Promise<void> {
  if (!Number.isInteger(pgid) || pgid <= 1) return;
  const steps = Math.max(1, Math.round(graceMs / 50));
  const script = `kill -TERM -- -${pgid} 2>/dev/null || exit 0; i=0; while [ $i -lt ${steps} ] && kill -0 -- -${pgid} 2>/dev/null; do sleep 0.05; i=$((i+1)); done; kill -KILL -- -${pgid} 2>/dev/null; exit 0`;
  await execa("ssh", sshArgv(host, ["sh", "-c", script]), { reject: false, stdin: "ignore" });
}
