import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { appendEvent, appendEvents, type NewEvent } from "../../state/events.repository.js";
import { immediateTransaction, openLedger } from "../../state/ledger.js";
import { validateManifests, type ManifestSource } from "../../controller/manifest/validate.js";
import { packagePath } from "../../controller/paths.js";

function timeMs(fn: () => void): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

/** 1,000 manifest documents: the repo's project, pool and playbook plus 997 tasks in 10 files. */
function thousandDocuments(): ManifestSource[] {
  const read = (f: string): Uint8Array => readFileSync(packagePath("manifests", f));
  const sources: ManifestSource[] = [
    { file: "manifests/project.yaml", bytes: read("project.yaml") },
    { file: "manifests/agents.yaml", bytes: read("agents.yaml") },
    { file: "manifests/playbook.yaml", bytes: read("playbook.yaml") },
  ];
  const docs: string[] = [];
  for (let i = 0; i < 997; i++) {
    docs.push(`apiVersion: gaffer/v1\nkind: Task\nmetadata:\n  name: task-${i}\nspec:\n  stage: build\n  role: builder\n  prompt: |\n    Implement part ${i}.\n  dependsOn: [${i > 0 ? `task-${i - 1}` : ""}]\n`);
  }
  for (let f = 0; f < 10; f++) sources.push({ file: `manifests/tasks-${f}.yaml`, bytes: Buffer.from(docs.slice(f * 100, (f + 1) * 100).join("---\n")) });
  return sources;
}

export async function benchFoundation(): Promise<Record<string, number>> {
  const sources = thousandDocuments();
  validateManifests(sources); // warm-up: schema compilation happens once per process
  const runs = Array.from({ length: 5 }, () => timeMs(() => {
    const result = validateManifests(sources);
    if (!result.valid) throw new Error("bench manifests invalid: " + JSON.stringify(result.issues[0]));
  }));
  const validateMs = runs.sort((a, b) => a - b)[2]!;

  const dir = mkdtempSync(join(tmpdir(), "gaffer-bench-"));
  const db = await openLedger(join(dir, "ledger.sqlite"));
  const events: NewEvent[] = Array.from({ length: 100_000 }, (_, i) => ({ actor: "bench", action: "CommandDone", subject: `session/s${i % 20}`, payload: { seq: i } }));
  let start = performance.now();
  await immediateTransaction(db, (trx) => appendEvents(trx, events));
  const batchedPerSec = 100_000 / ((performance.now() - start) / 1000);
  start = performance.now();
  for (let i = 0; i < 2_000; i++) await appendEvent(db, events[i]!);
  const singlePerSec = 2_000 / ((performance.now() - start) / 1000);
  await db.destroy();
  rmSync(dir, { recursive: true, force: true });

  const bin = packagePath("controller", "gaffer.js");
  execFileSync(process.execPath, [bin, "--version"]); // builds the bundle once
  const starts = Array.from({ length: 7 }, () => timeMs(() => execFileSync(process.execPath, [bin, "--version"])));
  const bare = Array.from({ length: 7 }, () => timeMs(() => execFileSync(process.execPath, ["-e", "0"])));
  const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return {
    validate1000DocsMs: round(validateMs),
    ledgerAppendsPerSecBatched100k: Math.round(batchedPerSec),
    ledgerAppendsPerSecOneTransactionEach: Math.round(singlePerSec),
    cliVersionStartMs: round(median(starts)),
    nodeBareStartMs: round(median(bare)),
  };
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
