import type { Selectable } from "kysely";

/** The controller lease: one row (`name = 'controller'`) while a controller runs; free once past `expires_at`. */
export interface ControllerLeaseTable {
  name: string;
  /** A random id per controller process. */
  holder: string;
  pid: number;
  host: string;
  /** `<boot id>:<start time in ticks>` of the holding process (tells a reused pid apart); null when unknown. */
  process_start: string | null;
  acquired_at: string;
  heartbeat_at: string;
  expires_at: string;
}

export type ControllerLeaseRow = Selectable<ControllerLeaseTable>;
