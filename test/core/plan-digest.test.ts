import { describe, expect, it } from "vitest";
import { judgeApprovals, type EntryFacts } from "../../controller/core/approval-rules.js";
import type { StageSpec, TaskManifest } from "../../controller/core/manifest-types.js";
import { approvalRequestFor, planDigest, type PlanDigestInput } from "../../controller/core/plan-digest.js";
import type { StageProposal } from "../../controller/core/status-types.js";

const stage: StageSpec = { name: "build", needs: ["plan"], roles: [{ name: "builder", count: 2, allowedAgents: ["scripted"] }] };
const task = (name: string, stageName: string, prompt: string): TaskManifest => ({ apiVersion: "gaffer/v1", kind: "Task", metadata: { name }, spec: { stage: stageName, role: "builder", prompt } });
const proposal: StageProposal = {
  allocation: [{ role: "builder", requested: 2, allocated: 2, assignments: [{ agent: "scripted", model: null, count: 2 }], tasks: ["a", "b"] }],
  worktrees: [
    { task: "a", role: "builder", branch: "gaffer/build/a", base: "main", path: ".gaffer/worktrees/a" },
    { task: "b", role: "builder", branch: "gaffer/build/b", base: "main", path: ".gaffer/worktrees/b" },
  ],
};
const input: PlanDigestInput = { stage, proposal, tasks: [task("a", "build", "do a"), task("b", "build", "do b"), task("t", "test", "test it")], requiredApprovals: 1 };

describe("planDigest", () => {
  it("is a stable sha256 that ignores key and task order", () => {
    const digest = planDigest(input);
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    const reordered: PlanDigestInput = { requiredApprovals: 1, tasks: [...input.tasks].reverse(), proposal: { worktrees: [...proposal.worktrees].reverse(), allocation: proposal.allocation }, stage: { roles: stage.roles, needs: ["plan"], name: "build" } };
    expect(planDigest(reordered)).toBe(digest);
    expect(approvalRequestFor("build", digest, 1)).toEqual({ id: `build-${digest.slice(0, 12)}`, planDigest: digest, requiredApprovals: 1 });
  });

  it("changes with the plan, and only with this stage's plan", () => {
    const digest = planDigest(input);
    expect(planDigest({ ...input, tasks: [task("a", "build", "do a, differently"), ...input.tasks.slice(1)] })).not.toBe(digest);
    expect(planDigest({ ...input, proposal: { ...proposal, allocation: [{ ...proposal.allocation[0]!, allocated: 1 }] } })).not.toBe(digest);
    expect(planDigest({ ...input, stage: { ...stage, gate: { commands: [["npm", "test"]] } } })).not.toBe(digest);
    expect(planDigest({ ...input, requiredApprovals: 2 })).not.toBe(digest);
    expect(planDigest({ ...input, tasks: [...input.tasks.slice(0, 2), task("t", "test", "test it harder")] })).toBe(digest);
  });
});

describe("judgeApprovals (pure)", () => {
  const request = { id: "build-aaaaaaaaaaaa", planDigest: "a".repeat(64), requiredApprovals: 1 };
  const policy = { approvers: ["a@x"], preventSelfApproval: true, requireSignedApprovals: false, allowedSignersFile: null };
  const fact = (requestId: string, email: string | null, line: number): EntryFacts => ({
    entry: { index: line, requestId, decision: "approved", comment: null, lines: [line, line] },
    commit: email === null ? null : { sha: "1234567890".repeat(4), authorEmail: email, authorName: "n" },
    signature: null,
  });
  const judge = (facts: EntryFacts[]) => judgeApprovals({ stage: "build", file: "f.yaml", request, policy, facts, manifestAuthor: null, malformed: [{ index: 9, lines: [30, 30], problem: "requestId is missing" }] });

  it("grants when a current approval counts, whatever stale ones say", () => {
    expect(judge([fact("build-old", "a@x", 1), fact(request.id, "A@X", 2)])).toMatchObject({ status: "True", reason: "Granted", approvers: ["a@x"] });
  });

  it("reports the refusal of the current request before older ones, and lists malformed entries", () => {
    const judgement = judge([fact("build-old", "a@x", 1), fact(request.id, null, 2)]);
    expect(judgement).toMatchObject({ status: "False", reason: "Uncommitted" });
    expect(judgement.message).toContain("f.yaml:30: ignored: requestId is missing");
    expect(judge([fact("build-old", "a@x", 1)])).toMatchObject({ reason: "Stale" });
    expect(judge([])).toMatchObject({ reason: "Pending" });
  });
});
