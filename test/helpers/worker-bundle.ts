import { existsSync, mkdirSync, renameSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { RUN_DIR_ENV } from "./run-dir.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Where a run's worker bundles go: inside the repo, so their package imports resolve from its node_modules. */
export function workerBundleDir(runDir: string): string {
  return join(ROOT, ".gaffer-build", "test-workers", basename(runDir));
}

/**
 * The argv (after `node`) that runs a TypeScript child-process worker of the
 * tests (test/helpers/*-worker.ts) as one esbuild bundle, built once per run:
 * `node --import tsx` compiled its imports in every process (~2 s of CPU each,
 * 18 processes in the race tests). Packages stay external (imported from
 * node_modules as usual); run-dir.ts's teardown deletes the bundles.
 */
export function workerArgs(entry: string): Promise<string[]> {
  let args = built.get(entry);
  if (args === undefined) built.set(entry, (args = bundle(entry)));
  return args;
}

/** This process's bundles, by entry (two workers started at once share one build). */
const built = new Map<string, Promise<string[]>>();

async function bundle(entry: string): Promise<string[]> {
  const runDir = process.env[RUN_DIR_ENV];
  if (runDir === undefined) throw new Error(`${RUN_DIR_ENV} is not set: run the tests through vitest.config.ts (its globalSetup test/helpers/run-dir.ts makes it)`);
  const out = join(workerBundleDir(runDir), `${basename(entry, ".ts")}.mjs`);
  if (!existsSync(out)) {
    mkdirSync(dirname(out), { recursive: true });
    // Built aside, then renamed: a file built by two test files at once is replaced whole, never read half-written.
    const tmp = `${out}.${process.pid}.tmp.mjs`;
    await build({ entryPoints: [entry], outfile: tmp, bundle: true, packages: "external", platform: "node", format: "esm", target: "node20", logLevel: "error" });
    renameSync(tmp, out);
  }
  return [out];
}
