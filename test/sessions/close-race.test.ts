import { expect, it } from "vitest";
import { checkSessionHealth, closeSession, createSession } from "../../controller/sessions/index.js";
import { listEvents } from "../../state/events.repository.js";
import { sessionFixture } from "../helpers/session-fixture.js";

it("a normal close racing the health loop records SessionClosed, never a spurious SessionCrashed", async () => {
  const f = await sessionFixture({ capacity: 4 });
  for (let round = 0; round < 3; round++) {
    const s = await createSession(f.ctx, { task: "round-trip", agent: "scripted", worktree: f.dir });
    // The health loop, as tight as it can run, for the whole close.
    let closing = true;
    const checks = (async () => {
      let n = 0;
      while (closing) {
        await checkSessionHealth(f.ctx, s.id);
        n++;
        // A check of a closed session touches only SQLite (no I/O wait): yield, or the close never runs.
        await new Promise((resolve) => setImmediate(resolve));
      }
      return n;
    })();
    const closed = await closeSession(f.ctx, s.id, "work done");
    closing = false;
    expect(await checks).toBeGreaterThan(0);
    expect(closed.session.state).toBe("Closed");
    const actions = (await listEvents(f.ctx.db, { subject: `session/${s.id}` })).map((e) => e.action);
    expect(actions, `round ${round}`).toContain("SessionClosed");
    expect(actions, `round ${round}`).not.toContain("SessionCrashed");
  }
}, 60_000);
