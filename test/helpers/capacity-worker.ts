// A child process for the capacity race test: makes N reservation attempts
// against one ledger (a SQLite file or a PostgreSQL URL), holding each won slot briefly before releasing it.
import { releaseCapacity, readCapacityUsage } from "../../state/capacity.repository.js";
import { reserveCapacity } from "../../controller/sessions/reserve-capacity.js";
import { openLocation } from "./ledger-backends.js";
import { CapacityExceededError } from "../../controller/errors.js";
import { existsSync } from "node:fs";

const [file, limitText, attemptsText, id, goFile] = process.argv.slice(2);
const limit = Number(limitText);
const db = await openLocation(file!, { busyTimeoutMs: 30_000 });
const limits = { global: limit, perAgent: { scripted: 1000 }, perRole: {} };
// A start barrier: every worker is up and connected before any reserves, so they really race.
process.stdout.write("ready\n");
while (!existsSync(goFile!)) await new Promise((resolve) => setImmediate(resolve));
let reserved = 0;
let refused = 0;
// Each worker keeps every slot it wins until it has made all its attempts, so the
// 8 workers together ask for far more than the limit.
const held: string[] = [];
for (let i = 0; i < Number(attemptsText); i++) {
  try {
    const r = await reserveCapacity(db, limits, { agent: "scripted", role: "builder", holder: `worker-${id}-${i}`, actor: `worker-${id}` });
    reserved++;
    held.push(r.id);
  } catch (error) {
    if (!(error instanceof CapacityExceededError)) throw error;
    refused++;
  }
  await readCapacityUsage(db);
}
for (const r of held) await releaseCapacity(db, r, `worker-${id}`);
await db.destroy();
process.stdout.write(JSON.stringify({ reserved, refused }) + "\n");
