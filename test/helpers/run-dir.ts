/**
 * A directory for the whole test run (vitest globalSetup): fixtures that
 * several test files only read are made once in it and shared
 * (test/helpers/shared-demo.ts). Its path goes to every worker in
 * `GAFFER_TEST_RUN_DIR`; teardown stops the tmux servers those fixtures
 * left (their sockets are listed in `tmux-sockets`) and deletes it, with
 * the run's worker bundles (test/helpers/worker-bundle.ts).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The environment variable that names the run's shared directory. */
export const RUN_DIR_ENV = "GAFFER_TEST_RUN_DIR";

/** The file in the run dir listing, one per line, the tmux sockets that teardown kills. */
export const RUN_SOCKETS_FILE = "tmux-sockets";

/** vitest globalSetup: makes the run dir; the returned function cleans it up. */
export default function setup(): () => void {
  if (process.env[RUN_DIR_ENV] !== undefined) return () => undefined; // a dir given from outside
  const dir = mkdtempSync(join(tmpdir(), "gaffer-test-run-"));
  process.env[RUN_DIR_ENV] = dir;
  return () => {
    const sockets = existsSync(join(dir, RUN_SOCKETS_FILE)) ? readFileSync(join(dir, RUN_SOCKETS_FILE), "utf8").split("\n").filter((s) => s !== "") : [];
    for (const socket of sockets) {
      try {
        execFileSync("tmux", ["-L", socket, "kill-server"], { stdio: "ignore", env: { ...process.env, TMUX: "" } });
      } catch {
        // that server had ended already
      }
    }
    rmSync(dir, { recursive: true, force: true });
    // test/helpers/worker-bundle.ts's workerBundleDir (not imported: a global setup stays free of esbuild).
    rmSync(fileURLToPath(new URL(`../../.gaffer-build/test-workers/${basename(dir)}`, import.meta.url)), { recursive: true, force: true });
  };
}
