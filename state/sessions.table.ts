import type { Generated, Insertable, Selectable, Updateable } from "kysely";

export interface SessionsTable {
  id: string;
  task: string | null;
  stage: string | null;
  role: string | null;
  agent: string;
  model: string | null;
  tmux_socket: string;
  tmux_name: string;
  pane_pid: number | null;
  worktree: string;
  /** Starting | Idle | Running | Waiting | Crashed | Restarting | Stuck | Backoff | Closed | Failed */
  state: string;
  /** Last status hint: idle | running | waiting | error | unknown */
  status: string;
  status_rule: string | null;
  status_hash: string | null;
  status_at: string | null;
  restarts: Generated<number>;
  reservation_id: string | null;
  paused: Generated<number>;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  close_reason: string | null;
  /** When the screen hash last changed (migration 0004). */
  screen_changed_at: string | null;
  /** Rate-limit backoff: no command is delivered before this ISO time. */
  backoff_until: string | null;
  /** JSON argv the agent was started with (restarts reuse it). */
  argv: string | null;
  /** Exit status of the agent's process when it died. */
  last_exit_status: number | null;
  /** Why the task needs a person (`NeedsLogin`, `AgentError`...; migration 0014); null while progressing. */
  stall_reason: string | null;
  stall_message: string | null;
  stalled_at: string | null;
}

export type SessionRow = Selectable<SessionsTable>;
export type NewSessionRow = Insertable<SessionsTable>;
export type SessionUpdate = Updateable<SessionsTable>;
