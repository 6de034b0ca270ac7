import type { ManifestSet, TaskManifest } from "../core/manifest-types.js";
import { ManifestInvalidError } from "../errors.js";
import { formatManifestIssue, type ManifestIssue } from "../manifest/manifest-issue.js";
import { listEvents } from "../../state/events.repository.js";
import type { Ledger } from "../../state/ledger.js";
import type { StatusView } from "./status-view.js";

/** The set `status` shows: the manifests as they are, or the last applied set when they are invalid. */
export interface ShownSet {
  readonly set: ManifestSet;
  /** Problems of the manifests as they are (empty when they are valid and shown). */
  readonly issues: readonly ManifestIssue[];
}

/**
 * The manifest set to show. With invalid manifests it is the set the
 * controller last applied (recorded in its `ManifestApplied` event), or, for
 * a ledger from before that record, one rebuilt from the ledger's stage and
 * task rows. With nothing ever applied the manifest error stands.
 */
export async function shownManifestSet(load: () => Promise<ManifestSet>, db: () => Promise<Ledger>): Promise<ShownSet> {
  try {
    return { set: await load(), issues: [] };
  } catch (error) {
    if (!(error instanceof ManifestInvalidError)) throw error;
    const issues = (error.details.issues ?? []) as ManifestIssue[];
    const set = await lastAppliedSet(await db());
    if (set === null) throw error;
    return { set, issues };
  }
}

async function lastAppliedSet(db: Ledger): Promise<ManifestSet | null> {
  const applied = (await listEvents(db, { action: "ManifestApplied", limit: 1 }))[0];
  if (applied === undefined) return null;
  const recorded = applied.payload.set as ManifestSet | undefined;
  if (recorded !== undefined) return recorded;
  const stages = await db.selectFrom("stages").select("name").orderBy("name").execute();
  const tasks = await db.selectFrom("tasks").select(["name", "stage", "role"]).orderBy("name").execute();
  const meta = (name: string) => ({ apiVersion: "gaffer/v1" as const, metadata: { name } });
  return {
    project: { ...meta("last-applied"), kind: "Project", spec: { repo: "." } },
    agentPools: [],
    playbooks: [{ ...meta("last-applied"), kind: "Playbook", spec: { stages: stages.map((s) => ({ name: s.name, roles: [] })) } }],
    tasks: tasks.map((t): TaskManifest => ({ ...meta(t.name), kind: "Task", spec: { stage: t.stage, role: t.role, prompt: "" } })),
    generation: String(applied.payload.generation ?? "unknown"),
  } as ManifestSet;
}

/** The view with the manifests' current problems on top, saying that the last applied set is shown. */
export function withManifestIssues(view: StatusView, shown: ShownSet): StatusView {
  if (shown.issues.length === 0) return view;
  const errors = shown.issues.map(formatManifestIssue);
  const note = `the manifests are invalid (${errors.length} problem(s), listed above): shown is the last applied set (generation ${shown.set.generation}), which a running controller keeps reconciling; fix them (\`gaffer validate\`)`;
  return {
    ...view,
    controller: { ...view.controller, manifestErrors: errors },
    waitingFor: [note, ...view.waitingFor.filter((w) => !w.startsWith("the manifests are invalid"))],
  };
}
