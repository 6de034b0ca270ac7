// A child process for the capacity race test: makes N reservation attempts
// against one ledger file, holding each won slot briefly before releasing it.
import { reserveCapacity, releaseCapacity, readCapacityUsage } from "../../state/capacity.repository.js";
import { openLedger } from "../../state/ledger.js";
import { CapacityExceededError } from "../../controller/errors.js";

const [file, limitText, attemptsText, id] = process.argv.slice(2);
const limit = Number(limitText);
const db = await openLedger(file!, { busyTimeoutMs: 30_000 });
const limits = { global: limit, perAgent: { scripted: 1000 }, perRole: {} };
let reserved = 0;
let refused = 0;
// Each worker keeps up to 3 slots (8 x 3 > 10), so the limit is really contended.
const held: string[] = [];
for (let i = 0; i < Number(attemptsText); i++) {
  try {
    const r = await reserveCapacity(db, limits, { agent: "scripted", role: "builder", holder: `worker-${id}-${i}`, actor: `worker-${id}` });
    reserved++;
    held.push(r.id);
    await readCapacityUsage(db);
  } catch (error) {
    if (!(error instanceof CapacityExceededError)) throw error;
    refused++;
  }
  if (held.length >= 3) await releaseCapacity(db, held.shift()!, `worker-${id}`);
}
for (const r of held) await releaseCapacity(db, r, `worker-${id}`);
await db.destroy();
process.stdout.write(JSON.stringify({ reserved, refused }) + "\n");
