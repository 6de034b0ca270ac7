import type { Insertable, Selectable, Updateable } from "kysely";

export interface WorktreesTable {
  id: string;
  task: string;
  stage: string;
  role: string;
  path: string;
  branch: string;
  base_sha: string;
  /** active | removed */
  state: string;
  created_at: string;
  removed_at: string | null;
}

export type WorktreeRow = Selectable<WorktreesTable>;
export type NewWorktreeRow = Insertable<WorktreesTable>;
export type WorktreeUpdate = Updateable<WorktreesTable>;
