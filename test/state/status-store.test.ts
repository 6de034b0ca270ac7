import { closeSync, fstatSync, openSync, readdirSync, readFileSync, renameSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { setCondition } from "../../controller/core/conditions.js";
import { appendApprovalText } from "../../controller/core/status-text.js";
import type { Condition, StageStatus } from "../../controller/core/status-types.js";
import { readControllerStatus, readStageApprovals, readStageStatus, statusHeader, toManifestErrors, writeControllerStatus, writeStageStatus, writeTaskStatus } from "../../controller/status/status-store.js";
import { tempDir } from "../helpers/temp.js";

const T0 = "2025-01-01T00:00:00.000Z";
const T1 = "2025-01-01T00:05:00.000Z";

function stageStatus(phase: string, generation = "gen1", extra: Partial<StageStatus> = {}): StageStatus {
  const conditions = setCondition([], { type: "Approved", status: "False", reason: "Pending", message: "waiting for approval", observedGeneration: generation }, T0);
  return {
    observedGeneration: generation,
    phase,
    conditions,
    details: { attempt: 1, note: "multi\nline" },
    proposal: { allocation: [{ role: "builder", requested: 2, allocated: 2, assignments: [{ agent: "scripted", model: null, count: 2 }], tasks: ["a", "b"] }], worktrees: [{ task: "a", role: "builder", branch: "gaffer/build/a", base: "main", path: ".gaffer/worktrees/a" }] },
    approvalRequest: { id: "build-0123456789ab", planDigest: "0123456789ab".padEnd(64, "0"), requiredApprovals: 1 },
    ...extra,
  };
}

/** Odd but valid person-written approvals blocks: comments everywhere, flow style, blank lines, no final newline. */
const BLOCKS = [
  "\n# Approvals below. Reviewed in the Tuesday meeting.\napprovals: # people only\n  - {requestId: build-0123456789ab, decision: approved, comment: \"lgtm\"}   # alice\n  # bob is still looking\n  - requestId: build-aaaaaaaaaaaa\n    decision: rejected # old plan\n    comment: >-\n      folded\n      comment\n\n# trailing comment at the end\n",
  "approvals: [{requestId: x, decision: approved}, {requestId: y, decision: rejected, comment: 'no'}]  # flow\n",
  "\n\n\napprovals:\n- requestId: a\n  decision: approved\n#c\n-   {requestId: b,\n     decision: approved}",
  "approvals: []\n# nothing yet\n",
];

describe("status store", () => {
  it("keeps the approvals block and its comments byte-for-byte across many rewrites", async () => {
    for (const block of BLOCKS) {
      const dir = tempDir();
      await writeStageStatus(dir, "build", stageStatus("Proposed"));
      const file = join(dir, "status/stages/build.yaml");
      const original = readFileSync(file, "utf8");
      const controllerPart = original.slice(0, original.indexOf("\napprovals: []"));
      writeFileSync(file, controllerPart + block);
      for (let i = 0; i < 20; i += 1) {
        const phase = ["AwaitingApproval", "Running", "Gating"][i % 3]!;
        const result = await writeStageStatus(dir, "build", stageStatus(phase, `gen${i}`, { details: { pass: i, list: Array.from({ length: i % 4 }, (_, k) => k) } }));
        expect(result.changed).toBe(true);
        const text = readFileSync(file, "utf8");
        expect(text.endsWith(block)).toBe(true);
        expect(text.split(block).length).toBe(2);
        expect((await readStageStatus(dir, "build")).status?.phase).toBe(phase);
      }
    }
  });

  it("keeps a block that people put first or in the middle, comments included", async () => {
    const dir = tempDir();
    const file = join(dir, "status/stages/build.yaml");
    await writeStageStatus(dir, "build", stageStatus("Proposed"));
    const middle = "# mine\napprovals:\n  - {requestId: r, decision: approved} # yes\n# also mine\n";
    writeFileSync(file, `phase: Old\n${middle}conditions: []\n`);
    await writeStageStatus(dir, "build", stageStatus("Running"));
    const text = readFileSync(file, "utf8");
    expect(text.startsWith(statusHeader("stage", "build"))).toBe(true);
    expect(text.endsWith(middle)).toBe(true);
    const first = "# hand written\napprovals: [{requestId: r, decision: approved}]\n";
    writeFileSync(file, first + "phase: Old\n");
    await writeStageStatus(dir, "build", stageStatus("Running"));
    expect(readFileSync(file, "utf8").endsWith(first)).toBe(true);
  });

  it("keeps CRLF approvals blocks byte-for-byte", async () => {
    const dir = tempDir();
    const file = join(dir, "status/stages/build.yaml");
    await writeStageStatus(dir, "build", stageStatus("Proposed"));
    const block = "\r\n# windows\r\napprovals:\r\n  - {requestId: r, decision: approved}\r\n";
    writeFileSync(file, readFileSync(file, "utf8").replace("\napprovals: []\n", block));
    await writeStageStatus(dir, "build", stageStatus("Running"));
    expect(readFileSync(file, "utf8").endsWith(block)).toBe(true);
    expect((await readStageApprovals(dir, "build")).entries.map((e) => e.requestId)).toEqual(["r"]);
  });

  it("does not write at all when nothing would change (an idle pass changes nothing)", async () => {
    const dir = tempDir();
    expect((await writeStageStatus(dir, "build", stageStatus("Proposed"))).changed).toBe(true);
    const file = join(dir, "status/stages/build.yaml");
    const before = statSync(file);
    for (let i = 0; i < 5; i += 1) expect((await writeStageStatus(dir, "build", stageStatus("Proposed"))).changed).toBe(false);
    const after = statSync(file);
    expect(after.ino).toBe(before.ino);
    expect(after.mtimeMs).toBe(before.mtimeMs);
    expect((await writeTaskStatus(dir, "a", { observedGeneration: "g", phase: "Working", conditions: [] })).changed).toBe(true);
    expect((await writeTaskStatus(dir, "a", { observedGeneration: "g", phase: "Working", conditions: [] })).changed).toBe(false);
  });

  it("writes atomically: a new inode by rename, no temp files left, readers never see a partial file", async () => {
    const dir = tempDir();
    await writeStageStatus(dir, "build", stageStatus("Proposed"));
    const file = join(dir, "status/stages/build.yaml");
    const original = readFileSync(file, "utf8");
    // An open descriptor on the old file: a rename leaves its bytes intact (an in-place rewrite would not) and keeps its inode from being reused.
    const fd = openSync(file, "r");
    onTestFinished(() => closeSync(fd));
    const inode = fstatSync(fd).ino;
    const big = { blob: "x".repeat(200_000) };
    const reads: Promise<void>[] = [];
    const writes = Promise.all(Array.from({ length: 10 }, (_, i) => writeStageStatus(dir, "build", stageStatus(`P${i}`, "g", { details: big }))));
    for (let i = 0; i < 50; i += 1) reads.push(readStageStatus(dir, "build").then((r) => expect(r.status?.phase).toMatch(/^P/)));
    await Promise.all([writes, ...reads]);
    expect(statSync(file).ino).not.toBe(inode);
    expect(readFileSync(fd, "utf8")).toBe(original);
    expect(readdirSync(join(dir, "status/stages"))).toEqual(["build.yaml"]);
  });

  it("reads every edit of a file it has read before: in place with the same size, by rename, and right after its own write", async () => {
    const dir = tempDir();
    await writeStageStatus(dir, "build", stageStatus("Proposed"));
    const file = join(dir, "status/stages/build.yaml");
    const old = new Date(Date.now() - 60_000);
    utimesSync(file, old, old); // old enough to be remembered (a file modified within the last second never is)
    expect((await readStageStatus(dir, "build")).status?.phase).toBe("Proposed");
    expect((await readStageStatus(dir, "build")).status?.phase).toBe("Proposed");
    // In place, same size: a person's editor rewriting the file (the mtime moves).
    writeFileSync(file, readFileSync(file, "utf8").replace("phase: Proposed", "phase: Proposex"));
    expect((await readStageStatus(dir, "build")).status?.phase).toBe("Proposex");
    // By rename onto it.
    writeFileSync(`${file}.new`, readFileSync(file, "utf8").replace("phase: Proposex", "phase: Running"));
    renameSync(`${file}.new`, file);
    expect((await readStageStatus(dir, "build")).status?.phase).toBe("Running");
    // gaffer's own writes, twice within the same clock tick.
    await writeStageStatus(dir, "build", stageStatus("Gating"));
    expect((await readStageStatus(dir, "build")).status?.phase).toBe("Gating");
    await writeStageStatus(dir, "build", stageStatus("Passed"));
    expect((await readStageStatus(dir, "build")).status?.phase).toBe("Passed");
    // An approval appended by a person after a remembered read counts.
    utimesSync(file, old, old);
    expect((await readStageApprovals(dir, "build")).entries).toEqual([]);
    writeFileSync(file, appendApprovalText(readFileSync(file, "utf8"), statusHeader("stage", "build"), { requestId: "build-0123456789ab", decision: "approved", comment: null }));
    expect((await readStageApprovals(dir, "build")).entries).toMatchObject([{ requestId: "build-0123456789ab", decision: "approved" }]);
  });

  it("refuses to rewrite a file that does not parse, saying where", async () => {
    const dir = tempDir();
    await writeStageStatus(dir, "build", stageStatus("Proposed"));
    const file = join(dir, "status/stages/build.yaml");
    writeFileSync(file, readFileSync(file, "utf8") + "  - {requestId: r, decision: approved\n");
    const broken = readFileSync(file, "utf8");
    await expect(writeStageStatus(dir, "build", stageStatus("Running"))).rejects.toThrow(/^status\/stages\/build\.yaml:\d+:\d+: .+; fix the file by hand \(gaffer does not rewrite a status file it cannot parse, so no approval is lost\)$/);
    expect(readFileSync(file, "utf8")).toBe(broken);
  });

  it("writes controller.yaml with revisions, sourceDirty and manifest errors", async () => {
    const dir = tempDir();
    const status = {
      observedGeneration: "g1",
      phase: "Degraded",
      conditions: [] as Condition[],
      lastAttemptedRevision: "b".repeat(40),
      lastAppliedRevision: "a".repeat(40),
      sourceDirty: true,
      manifestErrors: toManifestErrors([{ file: "manifests/tasks.yaml", line: 12, column: 5, pointer: "/spec/stage", kind: "Task", name: "x", code: "UNKNOWN_STAGE", message: 'unknown stage "nope"' }]),
    };
    await writeControllerStatus(dir, status);
    const read = await readControllerStatus(dir);
    expect(read.status).toMatchObject({ phase: "Degraded", lastAttemptedRevision: "b".repeat(40), lastAppliedRevision: "a".repeat(40), sourceDirty: true, manifestErrors: status.manifestErrors });
    expect(read.status?.manifestErrors).toEqual([{ file: "manifests/tasks.yaml", line: 12, column: 5, message: 'Task/x: unknown stage "nope"' }]);
    expect(read.text).not.toContain("approvals");
    expect((await writeControllerStatus(dir, status)).changed).toBe(false);
  });
});

describe("setCondition", () => {
  const base = { type: "Ready", status: "False" as const, reason: "Starting", message: "m", observedGeneration: "g1" };
  it("moves lastTransitionTime only when the status changes", () => {
    const first = setCondition([], base, T0);
    expect(first).toEqual([{ ...base, lastTransitionTime: T0 }]);
    const sameStatus = setCondition(first, { ...base, reason: "StillStarting", message: "m2", observedGeneration: "g2" }, T1);
    expect(sameStatus).toEqual([{ ...base, reason: "StillStarting", message: "m2", observedGeneration: "g2", lastTransitionTime: T0 }]);
    const flipped = setCondition(sameStatus, { ...base, status: "True", reason: "Ready" }, T1);
    expect(flipped[0]!.lastTransitionTime).toBe(T1);
    const other = setCondition(flipped, { ...base, type: "Approved" }, T1);
    expect(other.map((c) => c.type)).toEqual(["Ready", "Approved"]);
    expect(setCondition(other, { ...base, status: "True", reason: "Ready" }, "later")).toEqual(other);
  });
});

describe("appendApprovalText", () => {
  const header = "# h\n";
  const entry = { requestId: "build-0123456789ab", decision: "approved" as const, comment: "ok: \"quoted\"" };
  const line = '{requestId: "build-0123456789ab", decision: approved, comment: "ok: \\"quoted\\""}';
  it.each([
    ["a block list", "phase: x\napprovals:\n  - {requestId: a, decision: approved} # c\n# after\n", `phase: x\napprovals:\n  - {requestId: a, decision: approved} # c\n  - ${line}\n# after\n`],
    ["an empty flow list", "phase: x\napprovals: [] # none\n", `phase: x\napprovals: # none\n  - ${line}\n`],
    ["a non-empty flow list", "phase: x\napprovals: [{requestId: a, decision: approved}]\n", `phase: x\napprovals: [{requestId: a, decision: approved},\n  ${line}]\n`],
    ["an empty key", "approvals:\nphase: x\n", `approvals:\n  - ${line}\nphase: x\n`],
    ["no block", "phase: x", `phase: x\napprovals:\n  - ${line}\n`],
    ["a multi-line last entry, indented 0", "approvals:\n- requestId: a\n  decision: approved\n", `approvals:\n- requestId: a\n  decision: approved\n- ${line}\n`],
    ["CRLF", "phase: x\r\napprovals:\r\n  - {requestId: a, decision: approved}\r\n", `phase: x\r\napprovals:\r\n  - {requestId: a, decision: approved}\r\n  - ${line}\r\n`],
  ])("appends to %s, changing nothing else", (_name, before, after) => {
    expect(appendApprovalText(before, header, entry)).toBe(after);
  });
});
