import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Real tmux servers, git repos and child processes: keep the 2-core machine unsaturated.
    maxWorkers: 2,
    pool: "forks",
    // One private PostgreSQL cluster per run for the ledger's PostgreSQL backend (each test makes its own database).
    globalSetup: ["test/helpers/postgres-cluster.ts"],
  },
});
