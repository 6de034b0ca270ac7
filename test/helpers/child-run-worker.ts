// A child process for the spawn helper test: runs `git --version` through runChild COUNT times (the
// first two start directly, the rest through a helper), prints the helpers' pids, then
// simply ends: an idle helper must not keep it running.
import { readdirSync, readFileSync } from "node:fs";
import { runChild } from "../../controller/adapters/child-run.js";

const count = Number(process.argv[2] ?? "4");
for (let i = 0; i < count; i++) {
  const result = await runChild("git", ["--version"], { cwd: process.cwd(), env: process.env });
  if (result.exitCode !== 0) throw new Error(`git --version failed: ${JSON.stringify(result)}`);
}
const children = readdirSync("/proc/self/task").flatMap((t) => readFileSync(`/proc/self/task/${t}/children`, "utf8").split(" ").filter((p) => p.length > 0));
const helpers = children.filter((pid) => readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("gaffer-spawn-"));
console.log(JSON.stringify({ helpers }));
