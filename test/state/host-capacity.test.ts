import { join } from "node:path";
import { expect, test } from "vitest";
import { readCapacityUsage, releaseCapacity } from "../../state/capacity.repository.js";
import { reserveCapacity } from "../../controller/sessions/reserve-capacity.js";
import { listEvents } from "../../state/events.repository.js";
import { openLedger } from "../../state/ledger.js";
import { tempDir } from "../helpers/temp.js";

test("reservations pick the host with the most free slots in their transaction; a full set of hosts is refused and ledgered", async () => {
  const db = await openLedger(join(tempDir(), "ledger.sqlite"));
  const limits = { global: 10, perAgent: { scripted: 10 }, perRole: {}, perHost: { a: 2, b: 1 } };
  const request = { agent: "scripted", role: "builder", actor: "test" };
  const hosts = [];
  for (let i = 0; i < 3; i++) hosts.push((await reserveCapacity(db, limits, { ...request, holder: `pending:s${i}` })).host);
  expect(hosts).toEqual(["a", "a", "b"]);
  expect(await readCapacityUsage(db)).toEqual({ global: 3, byAgent: { scripted: 3 }, byRole: { builder: 3 }, byHost: { a: 2, b: 1 } });
  await expect(reserveCapacity(db, limits, { ...request, holder: "pending:s4" })).rejects.toThrow("host limit for any host is 3 and 3 are in use; close a session (`gaffer session close ID`) or raise the host's capacity in its AgentPool (or list another host)");
  const [refused] = await listEvents(db, { action: "CapacityRefused" });
  expect(refused!.payload).toMatchObject({ scope: "host", key: "any host", limit: 3, inUse: 3 });
  const rows = await db.selectFrom("reservations").select(["host"]).orderBy("acquired_at").execute();
  expect(rows.map((r) => r.host).sort()).toEqual(["a", "a", "b"]);
  // A named host is checked on its own.
  const first = await db.selectFrom("reservations").select("id").where("host", "=", "b").executeTakeFirstOrThrow();
  await releaseCapacity(db, first.id, "test");
  await expect(reserveCapacity(db, limits, { ...request, holder: "pending:s5", host: "a" })).rejects.toThrow(/^host limit for a is 2 and 2 are in use/);
  expect((await reserveCapacity(db, limits, { ...request, holder: "pending:s6" })).host).toBe("b");
  // Every host full: a slot asked for on this machine (a resolver's) is still given, and counts nowhere but here.
  expect((await reserveCapacity(db, limits, { ...request, holder: "pending:r1", host: null })).host).toBeNull();
  await expect(reserveCapacity(db, limits, { ...request, holder: "pending:s8" })).rejects.toThrow(/^host limit for any host is 3 and 3 are in use/);
  // Without hosts, a slot is on this machine.
  expect((await reserveCapacity(db, { global: 10, perAgent: { scripted: 10 }, perRole: {} }, { ...request, holder: "pending:s7" })).host).toBeNull();
  await db.destroy();
});
