/**
 * A private PostgreSQL cluster for one test run (vitest globalSetup): initdb
 * in a temp dir (as the `postgres` user when run as root, since the server
 * refuses root), started on a free 127.0.0.1 port with trust auth, stopped
 * and deleted at teardown. Tests create their own database in it
 * (test/helpers/postgres.ts). If it cannot start, the run fails and says
 * why: nothing is skipped.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";

/** The admin URL of the run's cluster, for test/helpers/postgres.ts (and child processes). */
export const PG_URL_ENV = "GAFFER_TEST_PG_URL";

function serverBin(): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, "bin", "postgres"))).sort((a, b) => Number(b) - Number(a)) : [];
  if (versions.length === 0) throw new Error("PostgreSQL tests need the server binaries (/usr/lib/postgresql/VERSION/bin/postgres): apt-get install postgresql (.ci/run installs it)");
  return join(root, versions[0]!, "bin");
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function asServerUser(bin: string, args: readonly string[]): void {
  const root = process.getuid?.() === 0;
  const [cmd, argv] = root ? ["runuser", ["-u", "postgres", "--", bin, ...args]] : [bin, [...args]];
  execFileSync(cmd, argv, { stdio: ["ignore", "pipe", "pipe"] });
}

/** vitest globalSetup: starts the cluster and provides its admin URL; the returned function stops it. */
export default async function setup(_project: TestProject): Promise<() => void> {
  if (process.env[PG_URL_ENV] !== undefined) return () => undefined; // a server given from outside
  const bin = serverBin();
  const dir = mkdtempSync(join(tmpdir(), "gaffer-pg-"));
  const data = join(dir, "data");
  if (process.getuid?.() === 0) {
    chownSync(dir, Number(execFileSync("id", ["-u", "postgres"]).toString()), Number(execFileSync("id", ["-g", "postgres"]).toString()));
    chmodSync(dir, 0o700);
  }
  const port = await freePort();
  try {
    asServerUser(join(bin, "initdb"), ["-D", data, "-U", "gaffer", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"]);
    const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
    asServerUser(join(bin, "pg_ctl"), ["-D", data, "-o", options, "-l", join(dir, "server.log"), "-w", "-t", "60", "start"]);
  } catch (error) {
    const log = existsSync(join(dir, "server.log")) ? readFileSync(join(dir, "server.log"), "utf8").slice(-2000) : "";
    const stderr = String((error as { stderr?: Buffer }).stderr ?? "");
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`the tests' PostgreSQL server did not start: ${stderr}${log}`);
  }
  process.env[PG_URL_ENV] = `postgres://gaffer@127.0.0.1:${port}/postgres`;
  return () => {
    try {
      asServerUser(join(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}
