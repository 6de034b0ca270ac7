import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { appendEvent, listEvents } from "../../state/events.repository.js";
import { copyLedger, type CopyProgress } from "../../state/ledger-copy.js";
import { openLedger } from "../../state/ledger.js";
import { growLedger } from "../bench/ledger-scale.js";
import { tempDir } from "../helpers/temp.js";

/** A grown SQLite ledger (sessions, commands, events over 3 days), opened. */
async function grownLedger(events: number) {
  const file = join(tempDir(), "ledger.sqlite");
  await (await openLedger(file)).destroy();
  growLedger(file, events, { spanDays: 3 });
  return openLedger(file);
}

describe("copyLedger (the copy behind `gaffer ledger migrate`)", () => {
  test("copies every table in batches, keeps ids, verifies counts, and the target's next id follows the largest", async () => {
    const source = await grownLedger(1_200);
    const target = await openLedger(join(tempDir(), "target.sqlite"));
    const progress: CopyProgress[] = [];
    const result = await copyLedger(source, target, { batchSize: 250, onProgress: (p) => progress.push(p) });
    const events = result.tables.find((t) => t.name === "events")!;
    expect(events).toEqual({ name: "events", source: 1_200, target: 1_200 });
    expect(result.tables.every((t) => t.source === t.target)).toBe(true);
    expect(result.tables.map((t) => t.name)).toEqual(expect.arrayContaining(["events", "sessions", "commands", "tasks", "controller_lease"]));
    expect(progress.filter((p) => p.table === "events").map((p) => p.copied)).toEqual([250, 500, 750, 1000, 1200]);
    expect(await listEvents(target, { limit: 3 })).toEqual(await listEvents(source, { limit: 3 }));
    const next = await appendEvent(target, { actor: "test", action: "AfterCopy", subject: "ledger" });
    expect(next).toBeGreaterThan(Math.max(...(await listEvents(source, { limit: 1 })).map((e) => e.id)));
    await Promise.all([source.destroy(), target.destroy()]);
  });

  test("refuses a target that has rows, naming the tables, and writes nothing to it", async () => {
    const source = await grownLedger(50);
    const target = await openLedger(join(tempDir(), "target.sqlite"));
    await appendEvent(target, { actor: "test", action: "Existing", subject: "ledger" });
    await expect(copyLedger(source, target)).rejects.toThrow(
      "the target ledger already has rows in events (1); migrate copies only into an empty database: create a new one (`createdb NAME`) or empty this one (`dropdb NAME && createdb NAME`), then run migrate again",
    );
    expect((await listEvents(target)).map((e) => e.action)).toEqual(["Existing"]);
    await Promise.all([source.destroy(), target.destroy()]);
  });
});
