// Grows a real ledger to N events with the mix a busy team writes (session
// status changes, command deliveries, capacity, task and stage phases),
// spread over the weeks before now. Used by the ledger bench and its test.
import SqliteDatabase from "better-sqlite3";

const ACTIONS_PER_SESSION: readonly string[] = [
  "CapacityReserved", "SessionCreated", "SessionStarting", "CommandIssued", "CommandTyped", "CommandSubmitted", "CommandAcknowledged",
  ...Array.from({ length: 30 }, () => "SessionStatusChanged"), "CommandDone", "GateCommandStarted", "GateCommandFinished", "GatePassed",
  "TaskPhaseChanged", "TaskPhaseChanged", "TaskPhaseChanged", "MergeQueued", "MergeStarted", "MergeSucceeded", "SessionClosed", "CapacityReleased",
];

/** Appends `count` events (and one closed session row per ~50 events) to the ledger file; returns the number of sessions added. */
export function growLedger(file: string, count: number, options: { readonly spanDays?: number } = {}): number {
  const db = new SqliteDatabase(file);
  const spanMs = (options.spanDays ?? 28) * 86_400_000;
  const start = Date.now() - spanMs - 3_600_000;
  const insertEvent = db.prepare("insert into events (at, actor, action, subject, payload) values (?, ?, ?, ?, ?)");
  const insertSession = db.prepare(
    "insert into sessions (id, tmux_socket, tmux_name, agent, role, task, stage, worktree, argv, state, status, created_at, updated_at, closed_at, restarts) values (?, 'gaffer', ?, 'scripted', 'builder', ?, 'build', '/nowhere', '[]', 'Closed', 'idle', ?, ?, ?, 0)",
  );
  let sessions = 0;
  db.transaction(() => {
    for (let i = 0; i < count; ) {
      const id = `gen-${sessions.toString(36)}`;
      const task = `gen-task-${sessions % 5000}`;
      const t0 = start + Math.floor((i / count) * spanMs);
      let k = 0;
      for (const action of ACTIONS_PER_SESSION) {
        if (i >= count) break;
        const at = new Date(t0 + k * 2000).toISOString();
        const subject = action.startsWith("TaskPhase") || action.startsWith("Merge") || action.startsWith("Gate") ? `task/${task}` : `session/${id}`;
        const payload = action === "SessionStatusChanged" ? `{"from":"idle","to":"${k % 2 === 0 ? "running" : "idle"}","rule":"scripted/ready"}` : action === "TaskPhaseChanged" ? `{"from":"Working","to":"Committing"}` : "{}";
        insertEvent.run(at, "controller", action, subject, payload);
        i++;
        k++;
      }
      insertSession.run(id, id, task, new Date(t0).toISOString(), new Date(t0 + k * 2000).toISOString(), new Date(t0 + k * 2000).toISOString());
      sessions++;
    }
  })();
  db.close();
  return sessions;
}
