// Runs the vitest suite and ends with the plain line CI reads: `N passed, N failed`.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, existsSync, rmSync } from "node:fs";

const out = ".test-results/vitest.json";
mkdirSync(".test-results", { recursive: true });
if (existsSync(out)) rmSync(out);
const result = spawnSync(
  process.execPath,
  ["node_modules/vitest/vitest.mjs", "run", "--reporter=default", "--reporter=json", `--outputFile.json=${out}`, ...process.argv.slice(2)],
  { stdio: "inherit", env: { ...process.env, TMUX: "" } },
);
let passed = 0;
let failed = 0;
if (existsSync(out)) {
  const report = JSON.parse(readFileSync(out, "utf8"));
  passed = report.numPassedTests ?? 0;
  // A file that fails to load has no failed test in it: count such files as failures too.
  const brokenFiles = (report.testResults ?? []).filter((r) => r.status === "failed" && (r.assertionResults ?? []).length === 0).length;
  failed = (report.numFailedTests ?? 0) + brokenFiles;
} else {
  failed = 1;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(result.status === 0 && failed === 0 ? 0 : 1);
