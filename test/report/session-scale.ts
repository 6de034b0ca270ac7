// Grows a real ledger by many short sessions (two screen-status changes each,
// so the ledger's rollups hold them) and a capacity reservation for its task
// (a tenth of the tasks waited for it first): the report's memory grows with
// sessions far more than with events. Used by the report's memory test.
import SqliteDatabase from "better-sqlite3";

/** Appends `count` closed sessions (a minute apart, ending before now) with their status events; returns how many sessions the ledger has. */
export function growSessions(file: string, count: number): number {
  const db = new SqliteDatabase(file);
  const start = Date.now() - count * 60_000 - 3_600_000;
  const insertEvent = db.prepare("insert into events (at, actor, action, subject, payload) values (?, 'gen', ?, ?, ?)");
  const insertSession = db.prepare(
    "insert into sessions (id, tmux_socket, tmux_name, agent, role, task, stage, worktree, argv, state, status, created_at, updated_at, closed_at, restarts) values (?, 'gaffer', ?, 'scripted', 'builder', ?, 'build', '/nowhere', '[]', 'Closed', 'idle', ?, ?, ?, 0)",
  );
  const base = (db.prepare("select count(*) as n from sessions").get() as { n: number }).n;
  db.transaction(() => {
    for (let i = 0; i < count; i++) {
      const id = `mem-${(base + i).toString(36)}`;
      const t0 = start + i * 60_000;
      const iso = (ms: number): string => new Date(t0 + ms).toISOString();
      insertSession.run(id, id, `mem-task-${i % 100}`, iso(0), iso(50_000), iso(50_000));
      // Every session reserves capacity for its task; one task in ten waited first (the report reads only those reservations).
      if (i % 100 < 10) insertEvent.run(iso(-2_000), "CapacityWait", `task/mem-task-${i % 100}`, '{"role":"builder"}');
      insertEvent.run(iso(0), "CapacityReserved", `task/mem-task-${i % 100}`, '{"role":"builder"}');
      insertEvent.run(iso(0), "SessionCreated", `session/${id}`, "{}");
      insertEvent.run(iso(5_000), "SessionStatusChanged", `session/${id}`, '{"to":"running"}');
      insertEvent.run(iso(30_000), "SessionStatusChanged", `session/${id}`, '{"to":"idle"}');
    }
  })();
  const total = (db.prepare("select count(*) as n from sessions").get() as { n: number }).n;
  db.close();
  return total;
}
