import type { Migration, MigrationProvider } from "kysely";
import * as m0001 from "./0001_create_events.js";
import * as m0002 from "./0002_create_sessions.js";
import * as m0003 from "./0003_create_workflow.js";
import * as m0004 from "./0004_session_delivery.js";
import * as m0005 from "./0005_create_merge_leases.js";
import * as m0007 from "./0007_controller_state.js";
import * as m0008 from "./0008_controller_lease.js";
import * as m0013 from "./0013_agent_events.js";
import * as m0014 from "./0014_delivery_evidence.js";
import * as m0015 from "./0015_query_indexes.js";
import * as m0018 from "./0018_reservation_host.js";
import * as m0019 from "./0019_report_rollups.js";
import * as m0020 from "./0020_task_revision.js";
import * as m0021 from "./0021_read_indexes.js";

/** Every migration, in order. Static, so a bundled or moved install still finds them. */
export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  "0001_create_events": m0001,
  "0002_create_sessions": m0002,
  "0003_create_workflow": m0003,
  "0004_session_delivery": m0004,
  "0005_create_merge_leases": m0005,
  "0007_controller_state": m0007,
  "0008_controller_lease": m0008,
  "0013_agent_events": m0013,
  "0014_delivery_evidence": m0014,
  "0015_query_indexes": m0015,
  "0018_reservation_host": m0018,
  "0019_report_rollups": m0019,
  "0020_task_revision": m0020,
  "0021_read_indexes": m0021,
};

/** A provider over a fixed set (tests use a prefix of MIGRATIONS to build an older ledger). */
export function staticMigrations(migrations: Readonly<Record<string, Migration>> = MIGRATIONS): MigrationProvider {
  return { getMigrations: async () => ({ ...migrations }) };
}
