/**
 * OpenSSH as gaffer's transport to agent hosts. Every remote command is one
 * `ssh [options] -- DEST 'quoted' 'argv'`: the remote side is a shell, so each
 * argument is single-quoted (nothing a manifest or agent wrote is ever shell
 * syntax there). Connections are shared through ControlMaster, so a command
 * costs one round trip, not a handshake.
 */
import { execa } from "execa";
import { mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ResolvedHost } from "../core/hosts.js";
import { HostUnreachableError } from "../errors.js";

/** ssh's exit status for its own failures (connection, authentication); a remote command's status is passed through otherwise. */
export const SSH_FAILED = 255;

/** How long an idle shared connection stays open. */
const CONTROL_PERSIST_S = 300;

/** Quotes one argument for a POSIX shell: `'...'` with each `'` written `'\''`. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./=:@%+,-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`;
}

/** The directory of the ControlMaster sockets (short: a unix socket path holds ~100 bytes). */
export function controlDir(): string {
  const dir = process.env.GAFFER_SSH_CONTROL_DIR ?? join(tmpdir(), `gaffer-ssh-${process.getuid?.() ?? 0}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** ssh's options for a host: connection sharing, no prompts, a dead link noticed within ~15 s; `GAFFER_SSH_CONFIG` is passed as `-F`. */
export function sshOptions(host: ResolvedHost): string[] {
  const config = process.env.GAFFER_SSH_CONFIG;
  return [
    ...(config === undefined || config === "" ? [] : ["-F", config]),
    "-o", "ControlMaster=auto",
    "-o", `ControlPath=${join(controlDir(), "%C")}`,
    "-o", `ControlPersist=${CONTROL_PERSIST_S}`,
    "-o", "BatchMode=yes",
    "-o", "ConnectTimeout=10",
    "-o", "ServerAliveInterval=5",
    "-o", "ServerAliveCountMax=3",
    "-p", String(host.port),
    ...(host.identityFile === null ? [] : ["-i", host.identityFile, "-o", "IdentitiesOnly=yes"]),
  ];
}

/** The argv (after `ssh`) that runs `remote` on the host; `tty` asks for a terminal (attach). */
export function sshArgv(host: ResolvedHost, remote: readonly string[], options: { readonly tty?: boolean } = {}): string[] {
  return [...sshOptions(host), options.tty === true ? "-t" : "-T", "--", host.ssh, remote.map(shellQuote).join(" ")];
}

/** `GIT_SSH_COMMAND` for git's own ssh transport to the host (git runs it through a shell, so it is quoted). */
export function gitSshCommand(host: ResolvedHost): string {
  return ["ssh", ...sshOptions(host).filter((_, i, all) => all[i] !== "-p" && all[i - 1] !== "-p")].map(shellQuote).join(" ");
}

/** `ssh://DEST:PORT/PATH`, git's URL for a repository on the host. */
export function gitUrl(host: ResolvedHost, path: string): string {
  return `ssh://${host.ssh}:${host.port}${path}`;
}

/** What a remote command printed and how it ended. */
export interface RemoteResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The message for ssh's own failure, with the next step. */
export function unreachable(host: ResolvedHost, stderr: string, cause?: unknown): HostUnreachableError {
  const why = stderr.trim().split("\n").filter((l) => l !== "").at(-1) ?? "no answer";
  const hint = /host key/i.test(stderr) ? `add its key first (ssh-keyscan -p ${host.port} ${host.ssh.replace(/^.*@/, "")} >> ~/.ssh/known_hosts)` : `check that \`ssh -p ${host.port} ${host.ssh} true\` works without a prompt`;
  return new HostUnreachableError(`agent host ${host.name} (${host.ssh}:${host.port}) is unreachable: ${why}; ${hint}`, { ...(cause === undefined ? {} : { cause }), details: { host: host.name, ssh: host.ssh, port: host.port, stderr: stderr.trim() } });
}

/** Runs `remote` (an argv, quoted here) on the host; HOST_UNREACHABLE when ssh itself fails, else the remote result. */
export async function runRemote(host: ResolvedHost, remote: readonly string[], options: { readonly input?: string; readonly timeoutMs?: number } = {}): Promise<RemoteResult> {
  const result = await execa("ssh", sshArgv(host, remote), { reject: false, stripFinalNewline: false, ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }), ...(options.input === undefined ? { stdin: "ignore" as const } : { input: options.input }) });
  if (result.exitCode === SSH_FAILED || result.exitCode === undefined) throw unreachable(host, String(result.stderr ?? "") || (result.shortMessage ?? "no output"), result);
  return { exitCode: result.exitCode, stdout: String(result.stdout ?? ""), stderr: String(result.stderr ?? "") };
}

/** Runs a remote shell script (for `&&` chains); every value in it must already be quoted with shellQuote. */
export function runRemoteScript(host: ResolvedHost, script: string, options: { readonly input?: string } = {}): Promise<RemoteResult> {
  return runRemote(host, ["sh", "-c", script], options);
}

/** Closes the shared connection to the host (`ssh -O exit`), if one is open. */
export async function closeMaster(host: ResolvedHost): Promise<void> {
  await execa("ssh", [...sshOptions(host), "-O", "exit", host.ssh], { reject: false, stdin: "ignore" });
}
