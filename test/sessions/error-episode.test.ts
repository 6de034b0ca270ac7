import { describe, expect, it } from "vitest";
import { currentErrorEpisode, type StatusChange } from "../../controller/sessions/error-episode.js";

const s = 1000;
const change = (to: string, at: number, matched: string | null = null): StatusChange => ({ to, at: at * s, rule: to === "error" ? "codex/error/1" : null, matched });

describe("error episodes", () => {
  it("run from the first error screen through short busy spells (codex's Reconnecting / Working flips)", () => {
    const flips = [change("idle", 0), change("running", 10), change("error", 15, "Reconnecting... waiting for network"), change("running", 25), change("error", 45, "Reconnecting... again"), change("running", 60)];
    expect(currentErrorEpisode(flips, 70 * s)).toEqual({ since: 15 * s, rule: "codex/error/1", matched: "Reconnecting... waiting for network" });
  });

  it("end at a ready or waiting screen, or after a busy spell of the grace period", () => {
    expect(currentErrorEpisode([change("error", 0), change("idle", 5)], 10 * s)).toBeNull();
    expect(currentErrorEpisode([change("error", 0), change("waiting", 5)], 10 * s)).toBeNull();
    // Working again for a minute: the old error no longer counts...
    expect(currentErrorEpisode([change("error", 0), change("running", 5)], 65 * s)).toBeNull();
    // ...and a later error starts a new episode.
    expect(currentErrorEpisode([change("error", 0), change("running", 5), change("error", 100, "late")], 101 * s)).toMatchObject({ since: 100 * s, matched: "late" });
  });

  it("is none without an error screen", () => {
    expect(currentErrorEpisode([change("running", 0), change("unknown", 5), change("running", 6)], 1000 * s)).toBeNull();
  });
});
