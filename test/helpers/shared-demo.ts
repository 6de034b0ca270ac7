import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runGaffer } from "./cli.js";
import { RUN_DIR_ENV, RUN_SOCKETS_FILE } from "./run-dir.js";
import { waitFor } from "./temp.js";

/** One `gaffer demo --keep DIR --json` of the test run. */
export interface SharedDemo {
  readonly root: string;
  readonly control: string;
  readonly target: string;
  readonly socket: string;
  /** What the demo printed as it went (stderr under --json). */
  readonly progress: string;
}

/** How long a file waits for the demo another file is running (a deadline, not a sleep). */
const DEMO_WAIT_MS = 240_000;
/** The demo's own limit, inside the wait and the 300 s hooks of the files that share it. */
const DEMO_TIMEOUT_S = 220;

/**
 * The run's one real demo (~40 s of the 2 cores), shared by the files that
 * only read it (test/demo, test/report): the first caller runs it under a
 * lock directory, the others wait for its result file. A failed demo is
 * recorded too, so every caller fails with its output. Only the run's
 * teardown deletes it (test/helpers/run-dir.ts).
 */
export async function sharedDemo(): Promise<SharedDemo> {
  const runDir = process.env[RUN_DIR_ENV];
  if (runDir === undefined) throw new Error(`${RUN_DIR_ENV} is not set: run the tests through vitest.config.ts (its globalSetup test/helpers/run-dir.ts makes it)`);
  const root = join(runDir, "demo");
  const resultFile = join(runDir, "demo.json");
  let owner = true;
  try {
    mkdirSync(join(runDir, "demo.lock"));
  } catch {
    owner = false;
  }
  if (owner) await runSharedDemo(root, runDir, resultFile);
  const result = await waitFor(() => (existsSync(resultFile) ? (JSON.parse(readFileSync(resultFile, "utf8")) as SharedDemo | { error: string }) : undefined), { timeoutMs: DEMO_WAIT_MS, intervalMs: 100, what: "the shared demo run" });
  if ("error" in result) throw new Error(result.error);
  return result;
}

async function runSharedDemo(root: string, runDir: string, resultFile: string): Promise<void> {
  // A loaded machine (CI runs two test files beside it) can take the demo past its 120 s default.
  const demo = await runGaffer(["demo", "--keep", root, "--json", "--timeout", String(DEMO_TIMEOUT_S)]);
  let record: SharedDemo | { error: string };
  if (demo.exitCode === 0) {
    const { control, target, socket } = JSON.parse(demo.stdout) as { control: string; target: string; socket: string };
    appendFileSync(join(runDir, RUN_SOCKETS_FILE), `${socket}\n`);
    record = { root, control, target, socket, progress: demo.stderr };
  } else {
    record = { error: `gaffer demo exited ${demo.exitCode}: ${demo.stderr}` };
  }
  // Written whole, then renamed: a waiting file never reads half of it.
  writeFileSync(`${resultFile}.tmp`, JSON.stringify(record));
  renameSync(`${resultFile}.tmp`, resultFile);
}
