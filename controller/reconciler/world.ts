import type { ResolvedAgent } from "../core/agent-profiles.js";
import type { CapacityLimits } from "../core/capacity.js";
import type { ManifestSet, TaskManifest } from "../core/manifest-types.js";
import type { ProjectConfig } from "../core/project-config.js";
import type { AgentHosts, Git, ScreenActivity, Tmux } from "../ports.js";
import type { Ledger } from "../../state/ledger.js";
import type { Logger } from "pino";

/** What every effect sees: the applied manifests, resolved, and the ledger. Re-read on every call. */
export interface World {
  readonly dir: string;
  readonly db: Ledger;
  readonly logger: Logger;
  readonly actor: string;
  readonly set: ManifestSet;
  readonly config: ProjectConfig;
  readonly agents: readonly ResolvedAgent[];
  readonly limits: CapacityLimits;
  /** gaffer's tmux server for this project (`config.tmuxSocket`), one per process. */
  readonly tmux: Tmux;
  /** The Git port, built once by the composition root (run-controller.ts). */
  readonly git: Git;
  /** Pane notifications of that server, when the runtime has them. */
  readonly activity?: ScreenActivity;
  /** Agent hosts (AgentPool `hosts`), when any are listed. */
  readonly hosts?: AgentHosts;
  /** Whether the task (or its stage, or the project) is paused right now. */
  isPaused(task: TaskManifest): boolean;
}

/**
 * Session timing in the controller: its health round looks at every settled
 * session each RESYNC_LOOK_MS and wakes the session's queue loop when the
 * screen changed without a notification, so a loop waiting on a settled
 * screen (an agent asking a person) need not look for itself every 30 s.
 */
export const CONTROLLER_SESSION_TIMING = { settledWaitMs: 5 * 60_000 } as const;

/** Paused by a manifest (`paused: true`) or by a person (`gaffer pause`). */
export function isTaskPaused(set: ManifestSet, pauses: ReadonlySet<string>, task: TaskManifest): boolean {
  return set.project.spec.paused === true || task.spec.paused === true || pauses.has("project") || pauses.has(`stage/${task.spec.stage}`) || pauses.has(`task/${task.metadata.name}`);
}
