import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Real tmux servers, git repos and child processes: keep the 2-core machine unsaturated.
    maxWorkers: 2,
    pool: "forks",
    // One private PostgreSQL cluster per run for the ledger's PostgreSQL backend (each test makes its own database),
    // and one directory per run for fixtures several files only read (the demo run of test/demo and test/report).
    globalSetup: ["test/helpers/postgres-cluster.ts", "test/helpers/run-dir.ts"],
  },
});
