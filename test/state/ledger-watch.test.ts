import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { appendEvent } from "../../state/events.repository.js";
import { claimControllerLease, renewControllerLease } from "../../state/controller-lease.repository.js";
import { dialectOf } from "../../state/dialect.js";
import { openLedger } from "../../state/ledger.js";
import { watchLedgerWrites } from "../../state/ledger-watch.js";
import { tempDir, waitFor } from "../helpers/temp.js";

describe("other connections' writes wake a SQLite ledger's watcher (by its files, not a poll)", () => {
  it("a write of another connection is seen within a second with the safety poll a minute away; the watcher's own writes are not", async () => {
    const file = join(tempDir(), "ledger.sqlite");
    const own = await openLedger(file);
    const other = await openLedger(file);
    let wakes = 0;
    const watch = watchLedgerWrites(own, () => wakes++, { file, intervalMs: 60_000 });
    try {
      // The first read of data_version is under way at once; an own write must not count.
      await appendEvent(own, { actor: "test", action: "OwnWrite", subject: "ledger" });
      for (let round = 1; round <= 3; round++) {
        await appendEvent(other, { actor: "test", action: "OtherWrite", subject: "ledger", payload: { round } });
        await waitFor(() => (wakes >= round ? true : undefined), { timeoutMs: 1000, intervalMs: 5, what: `the other connection's write ${round} is seen` });
        await appendEvent(own, { actor: "test", action: "OwnWrite", subject: "ledger", payload: { round } });
      }
      // Own writes after the last wake: give their file events time to be read (a wake would be counted by then).
      const settled = wakes;
      await appendEvent(other, { actor: "test", action: "OtherWrite", subject: "ledger", payload: { round: 4 } });
      await waitFor(() => (wakes > settled ? true : undefined), { timeoutMs: 1000, intervalMs: 5, what: "the fourth write is seen" });
      expect(wakes).toBe(4);
    } finally {
      await watch.close();
      await own.destroy();
      await other.destroy();
    }
  });

  it("the change stamp moves on every write, this connection's or another's, and never on a read", async () => {
    const file = join(tempDir(), "ledger.sqlite");
    const own = await openLedger(file);
    const other = await openLedger(file);
    const stamp = (): Promise<string | null> => dialectOf(own).changeStamp(own);
    try {
      const seen = [await stamp()];
      await own.selectFrom("events").select("id").execute();
      expect(await stamp()).toBe(seen[0]);
      await appendEvent(own, { actor: "test", action: "OwnWrite", subject: "ledger" });
      seen.push(await stamp());
      await appendEvent(other, { actor: "test", action: "OtherWrite", subject: "ledger" });
      seen.push(await stamp());
      expect(new Set(seen).size).toBe(3);
      // The controller's lease heartbeat is left out: an idle controller's stamp stands still.
      const lease = await claimControllerLease(own, { holder: "h", pid: process.pid, host: "here", processStart: null, actor: "controller" }, { ttlMs: 15_000, takeOver: () => null });
      expect(lease.taken).toBe(true);
      const held = await stamp();
      expect(await renewControllerLease(own, "h", 15_000)).toBe(true);
      expect(await stamp()).toBe(held);
      expect(seen.every((s) => s !== null)).toBe(true);
    } finally {
      await own.destroy();
      await other.destroy();
    }
  });
});
