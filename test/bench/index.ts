// `npm run bench`: prints one JSON object of figures (not a test).
import { benchFoundation } from "./foundation.bench.js";

const sections: Record<string, () => Promise<Record<string, number>>> = {
  foundation: benchFoundation,
};

const only = process.argv[2];
const figures: Record<string, Record<string, number>> = {};
for (const [name, run] of Object.entries(sections)) {
  if (only !== undefined && only !== name) continue;
  process.stderr.write(`bench: ${name}...\n`);
  figures[name] = await run();
}
process.stdout.write(JSON.stringify({ node: process.version, at: new Date().toISOString(), ...figures }, null, 2) + "\n");
