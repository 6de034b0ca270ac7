import type { Selectable } from "kysely";

/** Who is merging into an integration branch right now; a row past `expires_at` (or whose holder died) is free. */
export interface MergeLeasesTable {
  target: string;
  /** `<host>/<pid>/<uuid>` of the holding process. */
  holder: string;
  merge_id: number | null;
  acquired_at: string;
  expires_at: string;
}

export type MergeLeaseRow = Selectable<MergeLeasesTable>;
