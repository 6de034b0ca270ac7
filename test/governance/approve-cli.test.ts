import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { evaluateApprovals } from "../../controller/governance/approvals.js";
import { listEvents } from "../../state/events.repository.js";
import { runGaffer } from "../helpers/cli.js";
import { git } from "../helpers/git-repo.js";
import { governanceRepo, ledgerOf, policyFor, requestFor } from "../helpers/governance-fixtures.js";

const FILE = "status/stages/build.yaml";
const REQ = requestFor("build", "d");

describe("gaffer approve / reject", () => {
  it("makes exactly one commit, touching only the status file, as the current git user", async () => {
    const dir = await governanceRepo({ request: REQ });
    writeFileSync(join(dir, "staged.txt"), "staged\n");
    git(dir, "add", "staged.txt");
    writeFileSync(join(dir, "README.md"), "dirty\n");
    const before = readFileSync(join(dir, FILE), "utf8");
    const head = git(dir, "rev-parse", "HEAD");
    const result = await runGaffer(["approve", "build", "--comment", "looks good: ship", "--dir", dir]);
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    const sha = git(dir, "rev-parse", "HEAD");
    expect(result.stdout.split("\n")[0]).toBe(`approved stage build (request ${REQ.id}) as dev@example.com: commit ${sha.slice(0, 12)} changes only ${FILE}`);
    expect(git(dir, "rev-list", "--count", `${head}..HEAD`)).toBe("1");
    expect(git(dir, "show", "--name-only", "--format=%ae%n%s", "HEAD")).toBe(`dev@example.com\nchore(approval): approve build (${REQ.id})\n\n${FILE}`);
    const after = readFileSync(join(dir, FILE), "utf8");
    expect(after).toBe(before.replace("approvals: []\n", `approvals:\n  - {requestId: "${REQ.id}", decision: approved, comment: "looks good: ship"}\n`));
    expect(git(dir, "diff", "--cached", "--name-only")).toBe("staged.txt");
    expect(git(dir, "status", "--porcelain", "--", "README.md")).toBe("M README.md");
    const judgement = await evaluateApprovals({ dir, stage: "build", policy: policyFor({ approvers: ["dev@example.com"] }) });
    expect(judgement).toMatchObject({ status: "True", reason: "Granted" });
    const events = await listEvents(await ledgerOf(dir), { action: "ApprovalCommitted" });
    expect(events.map((e) => [e.subject, e.commitSha, e.payload.decision])).toEqual([["stage/build", sha, "approved"]]);
  });

  it("reject appends a rejection after earlier entries and prints JSON on request", async () => {
    const dir = await governanceRepo({ request: REQ });
    expect((await runGaffer(["approve", "build", "--dir", dir])).exitCode).toBe(0);
    const result = await runGaffer(["reject", "build", "--comment", "no tests", "--json", "--dir", dir]);
    expect(result.exitCode).toBe(0);
    const sha = git(dir, "rev-parse", "HEAD");
    expect(JSON.parse(result.stdout)).toEqual({ stage: "build", requestId: REQ.id, decision: "rejected", file: FILE, commit: sha, authorEmail: "dev@example.com" });
    expect(readFileSync(join(dir, FILE), "utf8").endsWith(`approvals:\n  - {requestId: "${REQ.id}", decision: approved}\n  - {requestId: "${REQ.id}", decision: rejected, comment: "no tests"}\n`)).toBe(true);
    expect(git(dir, "log", "-1", "--format=%s")).toBe(`chore(approval): reject build (${REQ.id})`);
    const judgement = await evaluateApprovals({ dir, stage: "build", policy: policyFor({ approvers: ["dev@example.com"], preventSelfApproval: false }) });
    expect(judgement).toMatchObject({ status: "False", reason: "Rejected" });
  });

  it("refuses a stage with no approval request, changing nothing", async () => {
    const dir = await governanceRepo({ request: REQ });
    const head = git(dir, "rev-parse", "HEAD");
    const result = await runGaffer(["approve", "test", "--dir", dir]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr.trim()).toBe('error: APPROVAL_NO_REQUEST: stage "test" has no approval request in status/stages/test.yaml; run `gaffer up` so the controller proposes its plan (`gaffer plan test` shows it)');
    expect(git(dir, "rev-parse", "HEAD")).toBe(head);
    expect(git(dir, "status", "--porcelain")).toBe("");
  });

  it("puts the file back when the commit fails", async () => {
    const dir = await governanceRepo({ request: REQ });
    const before = readFileSync(join(dir, FILE), "utf8");
    writeFileSync(join(dir, ".git/hooks/pre-commit"), "#!/bin/sh\necho 'hook says no' >&2\nexit 1\n", { mode: 0o755 });
    const result = await runGaffer(["approve", "build", "--dir", dir]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr.trim()).toMatch(/^error: GIT_FAILED: git commit -q -m chore\(approval\): approve build \(build-dddddddddddd\) -- status\/stages\/build\.yaml failed in .+ \(exit 1\): hook says no$/);
    expect(readFileSync(join(dir, FILE), "utf8")).toBe(before);
    expect(git(dir, "status", "--porcelain")).toBe("");
  });
});
