// `npm run bench [SECTION]`: prints one JSON object of figures (not a test).
// Each section also reports the 1-minute load average when it started: other
// work on the machine slows the gaffer side and the raw baselines alike.
import { availableParallelism, loadavg } from "node:os";
import { benchAgents } from "./agents.bench.js";
import { benchController } from "./controller.bench.js";
import { benchFoundation } from "./foundation.bench.js";
import { benchGit } from "./git.bench.js";
import { benchHosts } from "./hosts.bench.js";
import { benchLedger } from "./ledger.bench.js";
import { benchLedgerBackends } from "./ledger-backends.bench.js";
import { benchRuntime } from "./runtime.bench.js";
import { benchSessions } from "./sessions.bench.js";

const sections: Record<string, () => Promise<Record<string, number>>> = {
  foundation: benchFoundation,
  sessions: benchSessions,
  git: benchGit,
  controller: benchController,
  agents: benchAgents,
  ledger: benchLedger,
  ledgerBackends: benchLedgerBackends,
  hosts: benchHosts,
  runtime: benchRuntime,
};

const only = process.argv[2];
const figures: Record<string, Record<string, number>> = {};
for (const [name, run] of Object.entries(sections)) {
  if (only !== undefined && only !== name) continue;
  process.stderr.write(`bench: ${name}...\n`);
  const loadAvg1mAtStart = Math.round(loadavg()[0]! * 100) / 100;
  const started = performance.now();
  figures[name] = { ...(await run()), loadAvg1mAtStart, sectionSeconds: Math.round((performance.now() - started) / 100) / 10 };
}
process.stdout.write(JSON.stringify({ node: process.version, cpus: availableParallelism(), at: new Date().toISOString(), ...figures }, null, 2) + "\n");
