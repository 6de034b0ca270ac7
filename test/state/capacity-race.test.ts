import { execa } from "execa";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { listEvents } from "../../state/events.repository.js";
import { BACKENDS, newLedgerLocation, openLocation } from "../helpers/ledger-backends.js";
import { tempDir } from "../helpers/temp.js";
import { workerArgs } from "../helpers/worker-bundle.js";

const WORKER = fileURLToPath(new URL("../helpers/capacity-worker.ts", import.meta.url));

describe.each(BACKENDS)("on %s", (backend) => {
test("8 processes x 25 attempts (each keeping what it wins) never hold more than the limit of 10, and every refusal is ledgered", async () => {
  const dir = tempDir();
  const file = await newLedgerLocation(backend);
  const go = join(dir, "go");
  await (await openLocation(file)).destroy();
  const worker = await workerArgs(WORKER);
  const workers = Array.from({ length: 8 }, (_, id) => execa(process.execPath, [...worker, file, "10", "25", String(id), go]));
  let ready = 0;
  await Promise.all(workers.map((w) => new Promise<void>((resolve) => w.stdout.on("data", (chunk: Buffer) => {
    if (chunk.toString().includes("ready")) {
      ready++;
      resolve();
    }
  }))));
  expect(ready).toBe(8);
  writeFileSync(go, "");
  const results = (await Promise.all(workers)).map((r) => JSON.parse(r.stdout.split("\n").at(-1)!) as { reserved: number; refused: number });
  const reserved = results.reduce((n, r) => n + r.reserved, 0);
  const refused = results.reduce((n, r) => n + r.refused, 0);
  expect(reserved + refused).toBe(200);

  const db = await openLocation(file);
  const events = await listEvents(db);
  await db.destroy();
  let held = 0;
  let maxHeld = 0;
  for (const event of events) {
    if (event.action === "CapacityReserved") held++;
    if (event.action === "CapacityReleased") held--;
    maxHeld = Math.max(maxHeld, held);
  }
  expect(held).toBe(0);
  expect(maxHeld).toBeLessThanOrEqual(10);
  expect(maxHeld).toBe(10);
  expect(refused).toBeGreaterThan(0);
  const refusals = events.filter((e) => e.action === "CapacityRefused");
  expect(refusals).toHaveLength(refused);
  expect(events.filter((e) => e.action === "CapacityReserved")).toHaveLength(reserved);
  for (const refusal of refusals) {
    expect(refusal.payload).toMatchObject({ code: "CAPACITY_EXCEEDED", scope: "global", key: "global", limit: 10, inUse: 10, requested: 1 });
  }
});
});
