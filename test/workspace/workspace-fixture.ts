import { join } from "node:path";
import { onTestFinished } from "vitest";
import { GitCli } from "../../controller/adapters/git.js";
import { resolveProject } from "../../controller/core/project-config.js";
import { loadManifestSet } from "../../controller/manifest/load.js";
import type { WorkspaceContext } from "../../controller/workspace/context.js";
import { LEDGER_FILE, openLedger } from "../../state/ledger.js";
import { listEvents } from "../../state/events.repository.js";
import { controlDir, type ControlDirFixture, type ControlDirOptions } from "../helpers/control-dir.js";

export interface WorkspaceFixture extends ControlDirFixture {
  readonly ctx: WorkspaceContext;
  /** Actions of the events about `subject`, oldest first. */
  actions(subject: string): Promise<string[]>;
}

/** A control dir (also the target repo), its ledger, and a real GitCli. */
export async function workspaceFixture(options: ControlDirOptions = {}): Promise<WorkspaceFixture> {
  const fx = controlDir(options);
  const db = await openLedger(join(fx.dir, LEDGER_FILE));
  onTestFinished(() => db.destroy());
  const manifests = await loadManifestSet(fx.dir);
  const ctx: WorkspaceContext = { db, git: new GitCli(), config: resolveProject(manifests.project, fx.dir), manifests, controlDir: fx.dir, actor: "test" };
  return { ...fx, ctx, actions: async (subject) => (await listEvents(db, { subject })).map((e) => e.action) };
}
