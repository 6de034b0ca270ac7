/** Keeping the screen status of every session current, whoever created it. */
import { readControllerLiveness } from "../status/controller-liveness.js";
import { listSessions } from "../../state/sessions.repository.js";
import type { ControlDir } from "./control-dir.js";

/**
 * Observes each open session's screen once and records what it shows (its
 * status idle/waiting/running, a dead pane `Crashed`), as a running
 * controller does every 2 s for every session in the ledger, including those
 * made by `gaffer session create` or MCP `create_session`. Called by
 * `status`, `report` and `session list` (and MCP `list_sessions`) before they
 * read, and only when no controller runs. Returns how many sessions were
 * observed; with invalid manifests or no tmux it observes nothing and never
 * fails the read that called it.
 */
export async function observeSessionsOnce(ctx: ControlDir): Promise<number> {
  try {
    const db = await ctx.openLedger();
    if ((await readControllerLiveness(db)).running) return 0;
    const sessions = await listSessions(db);
    if (sessions.length === 0) return 0;
    // Imported only when a session is open: the session machine, the tmux and git adapters and the logger cost a `status` ~150 ms of start-up.
    const [{ sessionHasTag }, { checkSessionHealth }, { sessionContext }] = await Promise.all([import("../machines/session-lifecycle.js"), import("../sessions/index.js"), import("./contexts.js")]);
    const open = sessions.filter((s) => sessionHasTag(s.state, "observed")); // `Starting` belongs to the process creating it (its pane may not exist yet)
    if (open.length === 0) return 0;
    const service = await sessionContext(ctx);
    let observed = 0;
    for (const session of open) {
      const seen = await checkSessionHealth(service, session.id).then(() => true, () => false);
      if (seen) observed++;
    }
    return observed;
  } catch {
    return 0;
  }
}
