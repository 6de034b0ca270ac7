import { defineConfig } from "vitest/config";

export default defineConfig({
  // The run's caches (the bundled dependencies below, vitest's results) in this checkout, not in a node_modules
  // that several checkouts may share.
  cacheDir: ".gaffer-build/vite",
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Real tmux servers, git repos and child processes: keep the 2-core machine unsaturated.
    maxWorkers: 2,
    pool: "forks",
    // Every test file imports these pure-JS packages in a fresh process: bundled once per run (esbuild), each loads
    // as one file instead of hundreds (~0.25 s of CPU less per file that imports the controller, ~100 files).
    // Not zod: the MCP SDK (loaded from node_modules) must see the same zod as the code that hands it schemas.
    deps: { optimizer: { ssr: { enabled: true, include: ["execa", "kysely", "yaml", "ajv", "ajv-formats", "simple-git", "xstate", "commander", "picomatch"] } } },
    // One private PostgreSQL cluster per run for the ledger's PostgreSQL backend (each test makes its own database),
    // and one directory per run for fixtures several files only read (the demo run of test/demo and test/report).
    globalSetup: ["test/helpers/postgres-cluster.ts", "test/helpers/run-dir.ts"],
  },
});
