/**
 * A periodic pass of an idle controller reads nothing again when the control
 * repo did not change: no git process, no YAML parse. Any change a person
 * makes (an edited manifest, a `git add`, a commit, a new file) is read on
 * the next pass, and a file changed moments ago is never trusted by its stat.
 */
import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ManifestTracker } from "../../controller/reconciler/manifest-tracker.js";
import { openLedger } from "../../state/ledger.js";
import { commitAs, flowFixture, MANIFEST_AUTHOR } from "../helpers/flow-fixture.js";
import { git } from "../helpers/git-repo.js";
import { traceGit } from "../helpers/git-trace.js";

/** A tracker whose clock runs `aheadMs` ahead: the files look that much older (past the racy window). */
async function trackerOf(dir: string, aheadMs: number): Promise<{ tracker: ManifestTracker; close(): Promise<void> }> {
  const db = await openLedger(join(dir, ".gaffer/ledger.sqlite"));
  return { tracker: new ManifestTracker(dir, db, "controller:test", () => Date.now() + aheadMs), close: () => db.destroy() };
}

describe("the manifest tracker's source fingerprint", () => {
  it("an unchanged control repo is not read again; an edit, a `git add`, a new file and a commit each are", async () => {
    const { dir } = flowFixture({ buildTasks: { one: "echo one" } });
    const { tracker, close } = await trackerOf(dir, 10_000);
    try {
      const first = await traceGit(() => tracker.refresh());
      expect(first.result).toBe(true);
      expect(first.trace.count).toBeGreaterThan(0);
      const generation = tracker.current.applied!.generation;
      const names = tracker.current.applied!.tasks.map((t) => t.metadata.name);

      const idle = await traceGit(() => tracker.refresh());
      expect(idle.result).toBe(false);
      expect(idle.trace.commands).toEqual([]);

      appendFileSync(join(dir, "manifests/tasks.yaml"), "---\napiVersion: gaffer/v1\nkind: Task\nmetadata:\n  name: two\nspec:\n  stage: build\n  role: builder\n  prompt: echo two\n");
      const edited = await traceGit(() => tracker.refresh());
      expect(edited.result).toBe(true);
      expect(tracker.current.applied!.tasks.map((t) => t.metadata.name)).toEqual([...names, "two"]);
      expect(tracker.current.attempted.dirty).toBe(true);
      expect(tracker.current.applied!.generation).not.toBe(generation);

      git(dir, "add", "manifests/tasks.yaml");
      const added = await traceGit(() => tracker.refresh());
      expect(added.trace.count).toBeGreaterThan(0);

      commitAs(dir, MANIFEST_AUTHOR, "feat: task two", "manifests/tasks.yaml");
      const committed = await traceGit(() => tracker.refresh());
      expect(committed.trace.count).toBeGreaterThan(0);
      expect(tracker.current.attempted).toEqual({ revision: git(dir, "rev-parse", "HEAD").trim(), dirty: false });

      writeFileSync(join(dir, "manifests/notes.yaml"), "# not a manifest document\n");
      const created = await traceGit(() => tracker.refresh());
      expect(created.trace.count).toBeGreaterThan(0);
      expect(tracker.current.attempted.dirty).toBe(true);

      expect((await traceGit(() => tracker.refresh())).trace.commands).toEqual([]);
    } finally {
      await close();
    }
  });

  it("files changed within the racy window are read on every pass", async () => {
    const { dir } = flowFixture({ buildTasks: { one: "echo one" } });
    const { tracker, close } = await trackerOf(dir, 0);
    try {
      await tracker.refresh();
      const again = await traceGit(() => tracker.refresh());
      expect(again.trace.count).toBeGreaterThan(0);
    } finally {
      await close();
    }
  });
});
