/**
 * Real sshd instances for tests: each on 127.0.0.1 with a free port, its own
 * host key, and a key pair whose public half is its only authorized key. The
 * client side is a ssh config file (UserKnownHostsFile in the temp dir) that
 * gaffer reads through GAFFER_SSH_CONFIG. If sshd cannot start, the test
 * fails and says why; nothing is skipped.
 */
import { execa, type ResultPromise } from "execa";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { onTestFinished } from "vitest";
import type { ResolvedHost } from "../../controller/core/hosts.js";
import { tempDir, waitFor } from "./temp.js";

export const SSHD = "/usr/sbin/sshd";

/** One running sshd and what a client needs to reach it. */
export interface TestSshd {
  readonly port: number;
  /** The private key that sshd accepts. */
  readonly identityFile: string;
  /** The ssh config file (known hosts in the temp dir); set it as GAFFER_SSH_CONFIG. */
  readonly clientConfig: string;
  readonly dir: string;
  /** Kills sshd (SIGKILL of the listener; sessions already open keep running). */
  kill(): Promise<void>;
  /** Starts sshd again on the same port, with the same keys. */
  restart(): Promise<void>;
  /** A host entry for it, with `workdir` under the temp dir. */
  host(name: string, capacity?: number): ResolvedHost;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
    });
  });
}

/** Every process below `pid` (read from /proc). */
function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // exited meanwhile
    }
  }
  const found: number[] = [];
  const walk = (p: number): void => {
    for (const [child, parent] of parentOf) if (parent === p) (found.push(child), walk(child));
  };
  walk(pid);
  return found;
}

/**
 * Points gaffer's ssh at the test's client config and its own ControlMaster
 * directory until the test's cleanups are done (registered first, so it is
 * undone last: the other cleanups still reach the host).
 */
function useClientEnv(config: string, controlDir: string): void {
  const saved = { config: process.env.GAFFER_SSH_CONFIG, control: process.env.GAFFER_SSH_CONTROL_DIR };
  if (saved.config !== undefined) return; // a second sshd in the same test shares the first one's settings
  process.env.GAFFER_SSH_CONFIG = config;
  process.env.GAFFER_SSH_CONTROL_DIR = controlDir;
  onTestFinished(() => {
    delete process.env.GAFFER_SSH_CONFIG;
    delete process.env.GAFFER_SSH_CONTROL_DIR;
  });
}

async function keygen(path: string, type = "ed25519"): Promise<void> {
  await execa("ssh-keygen", ["-q", "-t", type, "-N", "", "-f", path]);
}

/** Starts one sshd (as root, on 127.0.0.1); removed and killed when the test finishes. */
export async function startSshd(): Promise<TestSshd> {
  const dir = tempDir("gaffer-sshd-");
  useClientEnv(join(dir, "ssh_config"), join(dir, "cm"));
  const sshd = await launchSshd(dir);
  onTestFinished(sshd.kill);
  return sshd;
}

/** Starts one sshd with its keys and configs in `dir` (outside vitest too: the bench); the caller kills it. */
export async function launchSshd(dir: string): Promise<TestSshd> {
  if (!existsSync(SSHD)) throw new Error(`${SSHD} is missing: install Debian's openssh-server (apt-get install -y openssh-server); .ci/run does`);
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 }); // sshd's privilege-separation directory
  await Promise.all([keygen(join(dir, "host_key")), keygen(join(dir, "id_test"))]);
  mkdirSync(join(dir, "tmux"), { mode: 0o700 });
  await execa("cp", [join(dir, "id_test.pub"), join(dir, "authorized_keys")]);
  const port = await freePort();
  const config = join(dir, "sshd_config");
  writeFileSync(config, [`Port ${port}`, "ListenAddress 127.0.0.1", `HostKey ${join(dir, "host_key")}`, `AuthorizedKeysFile ${join(dir, "authorized_keys")}`, "StrictModes no", "PasswordAuthentication no", "KbdInteractiveAuthentication no", "UsePAM no", "PermitRootLogin prohibit-password", `PidFile ${join(dir, "sshd.pid")}`, "MaxStartups 100", "MaxSessions 100", "LogLevel ERROR",
    // NOTE: Debian's bash sources ~/.bashrc for every command sshd runs (it checks SSH_CLIENT and
    // SHLVL < 2); a heavy .bashrc (pyenv init) costs seconds per command. SHLVL=1 keeps it out.
    // Each "host" has its own tmux server (its own socket directory), as a separate machine would.
    `SetEnv SHLVL=1 TMUX_TMPDIR=${join(dir, "tmux")}`, ""].join("\n"));
  const clientConfig = join(dir, "ssh_config");
  writeFileSync(clientConfig, ["Host *", `  UserKnownHostsFile ${join(dir, "known_hosts")}`, "  StrictHostKeyChecking accept-new", "  LogLevel ERROR", ""].join("\n"));
  let child: ResultPromise | null = null;
  const start = async (): Promise<void> => {
    // stderr goes to a file: the connections sshd forks inherit it, and a pipe would outlive a killed listener.
    const log = join(dir, "sshd.log");
    const proc = execa(SSHD, ["-D", "-e", "-f", config], { reject: false, stdin: "ignore", stdout: "ignore", stderr: { file: log } });
    child = proc;
    let exited: string | null = null;
    void proc.then((r) => (exited = `sshd exited (${r.exitCode ?? r.signal}): ${existsSync(log) ? readFileSync(log, "utf8").trim() : ""}`));
    await waitFor(async () => {
      if (exited !== null) throw new Error(exited);
      const probe = await execa("ssh", ["-F", clientConfig, "-o", "BatchMode=yes", "-o", "ControlMaster=no", "-p", String(port), "-i", join(dir, "id_test"), "root@127.0.0.1", "true"], { reject: false, stdin: "ignore" });
      return probe.exitCode === 0 ? true : undefined;
    }, { timeoutMs: 20_000, what: `sshd on 127.0.0.1:${port} to accept a login` }).catch((error: Error) => {
      throw new Error(`${error.message}${exited === null ? "" : ` (${exited})`}`);
    });
  };
  const kill = async (): Promise<void> => {
    const proc = child;
    child = null;
    if (proc === null) return;
    // The listener and every connection it forked: a lost host, not just a refused new login.
    const pids = [proc.pid!, ...descendants(proc.pid!)];
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    await proc;
  };
  await start();
  return {
    port, dir, clientConfig, identityFile: join(dir, "id_test"), kill, restart: start,
    host: (name, capacity = 2) => ({ name, ssh: "root@127.0.0.1", port, identityFile: join(dir, "id_test"), capacity, workdir: join(dir, `work-${name}`) }),
  };
}
