import type { AgentEventsTable } from "./agent-events.table.js";
import type { CommandsTable } from "./commands.table.js";
import type { ControllerLeaseTable } from "./controller-lease.table.js";
import type { EventsTable } from "./events.table.js";
import type { MergeLeasesTable } from "./merge-leases.table.js";
import type { ReservationsTable } from "./reservations.table.js";
import type { ReportEventsTable, SessionStatusHeadsTable, SessionStatusTotalsTable } from "./report-rollups.table.js";
import type { SessionsTable } from "./sessions.table.js";
import type { ApprovalsTable, EffectsTable, GatesTable, MemoryTable, MergesTable, PausesTable, StagesTable, TasksTable } from "./workflow.table.js";
import type { WorktreesTable } from "./worktrees.table.js";

/** The ledger's tables, as kysely sees them. */
export interface Database {
  events: EventsTable;
  sessions: SessionsTable;
  commands: CommandsTable;
  reservations: ReservationsTable;
  worktrees: WorktreesTable;
  stages: StagesTable;
  tasks: TasksTable;
  approvals: ApprovalsTable;
  gates: GatesTable;
  merges: MergesTable;
  memory: MemoryTable;
  effects: EffectsTable;
  pauses: PausesTable;
  merge_leases: MergeLeasesTable;
  controller_lease: ControllerLeaseTable;
  agent_events: AgentEventsTable;
  report_events: ReportEventsTable;
  session_status_heads: SessionStatusHeadsTable;
  session_status_totals: SessionStatusTotalsTable;
}
