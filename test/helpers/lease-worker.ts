/**
 * One process racing for the controller lease (test/reconciler/controller-lease.test.ts).
 * stdin lines: `go ROUND AT` (spin until the wall clock reaches AT, then try to take
 * the lease), `release ROUND`, `exit`. stdout: one JSON line per step.
 */
import { createInterface } from "node:readline";
import pino from "pino";
import { acquireControllerLease, type HeldLease } from "../../controller/reconciler/controller-lease.js";
import { openLedger } from "../../state/ledger.js";

const [file, id] = process.argv.slice(2) as [string, string];
const db = await openLedger(file);
const logger = pino({ level: "silent" });
let held: HeldLease | null = null;
const say = (value: object): void => void process.stdout.write(`${JSON.stringify({ id, ...value })}\n`);
say({ ready: true });
for await (const line of createInterface({ input: process.stdin })) {
  const [verb, round, at] = line.split(" ");
  if (verb === "go") {
    while (Date.now() < Number(at)); // the start barrier: both processes leave it at the same instant
    try {
      held = await acquireControllerLease(db, { ledgerFile: file, actor: `worker-${id}`, logger });
      say({ round: Number(round), won: true });
    } catch (error) {
      say({ round: Number(round), won: false, code: (error as { code?: string }).code });
    }
  } else if (verb === "release") {
    await held?.release();
    held = null;
    say({ round: Number(round), released: true });
  } else break;
}
await held?.release();
await db.destroy();
process.exit(0); // stdin stays open in the parent: leave without waiting for it
