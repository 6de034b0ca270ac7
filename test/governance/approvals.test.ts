import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { evaluateApprovals } from "../../controller/governance/approvals.js";
import { listApprovalRecords, recordApprovalVerdicts } from "../../state/approvals.repository.js";
import { listEvents } from "../../state/events.repository.js";
import { writeStageStatus } from "../../controller/status/status-store.js";
import { ALICE, AUTHOR, BOB, MALLORY, addEntry, commitAs, governanceRepo, ledgerOf, policyFor, requestFor, sshSigner, stageWith } from "../helpers/governance-fixtures.js";
import { tempDir } from "../helpers/temp.js";

const FILE = "status/stages/build.yaml";
const REQ = requestFor("build", "a");

async function judge(dir: string, policy = policyFor()) {
  const judgement = await evaluateApprovals({ dir, stage: "build", policy });
  if (judgement === null) throw new Error("no request");
  return judgement;
}

describe("approvals verified against git", () => {
  it("refuses an uncommitted approval, then grants it once an approver commits it", async () => {
    const dir = await governanceRepo({ request: REQ });
    expect(await judge(dir)).toMatchObject({ status: "False", reason: "Pending", verdicts: [] });
    await addEntry(dir, "build", REQ.id, "approved", "ship it");
    const dirty = await judge(dir);
    expect(dirty).toMatchObject({ status: "False", reason: "Uncommitted" });
    expect(dirty.verdicts[0]!.message).toBe(`${FILE}:23: uncommitted approval: commit it (\`git add ${FILE} && git commit\`); a dirty edit is not an approval`);
    const sha = commitAs(dir, ALICE, "chore(approval): approve build", [FILE]);
    const granted = await judge(dir);
    expect(granted).toMatchObject({ status: "True", reason: "Granted", approvers: [ALICE], message: `request ${REQ.id} approved by ${ALICE} (1 of 1 required)` });
    expect(granted.verdicts[0]!.commit).toEqual({ sha, authorEmail: ALICE, authorName: "alice", sessionTrailers: [], taskTrailers: [], parents: 1, files: [FILE] });
  });

  it("keeps counting a committed approval after the controller rewrites the rest of the file", async () => {
    const dir = await governanceRepo({ request: REQ });
    await addEntry(dir, "build", REQ.id, "approved");
    commitAs(dir, ALICE, "approve", [FILE]);
    await writeStageStatus(dir, "build", { ...stageWith(REQ, "Running"), details: { many: ["lines", "added", "above"] } });
    expect(await judge(dir)).toMatchObject({ reason: "Granted" });
  });

  it("refuses a stale approval after a re-plan", async () => {
    const dir = await governanceRepo({ request: REQ });
    await addEntry(dir, "build", REQ.id, "approved");
    commitAs(dir, ALICE, "approve", [FILE]);
    const next = requestFor("build", "b");
    await writeStageStatus(dir, "build", stageWith(next));
    const judgement = await judge(dir);
    expect(judgement).toMatchObject({ status: "False", reason: "Stale", requestId: next.id });
    expect(judgement.verdicts[0]!.message).toBe(`${FILE}:23: answers request ${REQ.id}, but the plan changed and the current request is ${next.id}: review the new proposal and answer ${next.id}`);
  });

  it("refuses an approval committed by someone not in policy.approvers", async () => {
    const dir = await governanceRepo({ request: REQ });
    await addEntry(dir, "build", REQ.id, "approved");
    const sha = commitAs(dir, MALLORY, "approve", [FILE]);
    const judgement = await judge(dir);
    expect(judgement).toMatchObject({ status: "False", reason: "Unauthorized" });
    expect(judgement.verdicts[0]!.message).toBe(`${FILE}:23: committed by ${MALLORY} (commit ${sha.slice(0, 7)}), who is not in policy.approvers (${ALICE}, ${BOB}): an approver must commit it, or add ${MALLORY} to policy.approvers`);
  });

  it("reads raw author emails: a committed .mailmap cannot turn a committer into an approver", async () => {
    const dir = await governanceRepo({ request: REQ });
    writeFileSync(join(dir, ".mailmap"), `Alice <${ALICE}> <${MALLORY}>\n`);
    commitAs(dir, MALLORY, "chore: mailmap", [".mailmap"]);
    await addEntry(dir, "build", REQ.id, "approved");
    commitAs(dir, MALLORY, "approve", [FILE]);
    expect(await judge(dir)).toMatchObject({ status: "False", reason: "Unauthorized" });
  });

  it("refuses self-approval by the author of the manifest change", async () => {
    const dir = await governanceRepo({ request: REQ, manifestAuthor: ALICE });
    const manifestSha = (await import("../helpers/git-repo.js")).git(dir, "log", "-1", "--format=%H", "--", "manifests");
    await addEntry(dir, "build", REQ.id, "approved");
    commitAs(dir, ALICE, "approve", [FILE]);
    const judgement = await judge(dir);
    expect(judgement).toMatchObject({ status: "False", reason: "SelfApproval" });
    expect(judgement.verdicts[0]!.message).toBe(`${FILE}:23: ${ALICE} authored the manifest change being approved (commit ${manifestSha.slice(0, 7)}) and cannot approve it (policy.preventSelfApproval): another approver must`);
    expect(await judge(dir, policyFor({ preventSelfApproval: false }))).toMatchObject({ reason: "Granted" });
  });

  it("with requireSignedApprovals refuses an unsigned commit and grants an ssh-signed one", async () => {
    const keys = tempDir("gaffer-keys-");
    const alice = sshSigner(keys, ALICE, "alice");
    const stranger = sshSigner(keys, BOB, "stranger");
    writeFileSync(join(keys, "allowed_signers"), alice.signersLine + "\n");
    const policy = policyFor({ requireSignedApprovals: true, allowedSignersFile: join(keys, "allowed_signers") });
    const dir = await governanceRepo({ request: REQ });
    await addEntry(dir, "build", REQ.id, "approved");
    const unsigned = commitAs(dir, ALICE, "approve", [FILE]);
    const refused = await judge(dir, policy);
    expect(refused).toMatchObject({ status: "False", reason: "Unsigned" });
    expect(refused.verdicts[0]!.message).toMatch(new RegExp(`^${FILE}:23: ${ALICE} \\(commit ${unsigned.slice(0, 7)}\\) is not signed by a key in ${join(keys, "allowed_signers")} \\(.+\\): sign the approval commit`));
    await addEntry(dir, "build", REQ.id, "approved", "signed, by a key nobody allowed");
    commitAs(dir, BOB, "approve", [FILE], { key: stranger.key });
    const twice = await judge(dir, policy);
    expect(twice.verdicts.map((v) => v.verdict)).toEqual(["Unsigned", "Unsigned"]);
    expect(twice.verdicts[1]!.message).toMatch(/\(No principal matched\.\): sign the approval commit/);
    writeFileSync(join(keys, "allowed_signers"), `${alice.signersLine}\n${stranger.signersLine}\n`);
    await addEntry(dir, "build", REQ.id, "approved", "signed by bob's key, authored as alice");
    const forged = commitAs(dir, ALICE, "approve", [FILE], { key: stranger.key });
    const third = await judge(dir, policy);
    expect(third.verdicts[2]!.message).toBe(`${FILE}:25: ${ALICE} (commit ${forged.slice(0, 7)}) is signed with the key of ${BOB}, not of its author: the author must sign it with their own key listed in ${join(keys, "allowed_signers")}`);
    await addEntry(dir, "build", REQ.id, "approved", "signed");
    commitAs(dir, ALICE, "approve signed", [FILE], { key: alice.key });
    const granted = await judge(dir, policy);
    // Bob's key is now allowed, so his own signed approval counts; the one forged as Alice's does not.
    expect(granted.verdicts.map((v) => v.verdict)).toEqual(["Unsigned", "Granted", "Unsigned", "Granted"]);
    expect(granted).toMatchObject({ status: "True", reason: "Granted", approvers: [BOB, ALICE] });
  });

  it("fails the stage on a committed rejection, even next to an approval", async () => {
    const dir = await governanceRepo({ request: REQ });
    await addEntry(dir, "build", REQ.id, "approved");
    commitAs(dir, ALICE, "approve", [FILE]);
    await addEntry(dir, "build", REQ.id, "rejected", "tests are missing");
    const sha = commitAs(dir, BOB, "reject", [FILE]);
    const judgement = await judge(dir);
    expect(judgement).toMatchObject({ status: "False", reason: "Rejected" });
    expect(judgement.message).toBe(`${FILE}:24: rejected by ${BOB} (commit ${sha.slice(0, 7)}): "tests are missing"; the stage fails: change the plan (manifests) to get a new approval request`);
  });

  it("needs requiredApprovals distinct approvers", async () => {
    const request = requestFor("build", "c", 2);
    const dir = await governanceRepo({ request });
    await addEntry(dir, "build", request.id, "approved");
    commitAs(dir, ALICE, "approve", [FILE]);
    await addEntry(dir, "build", request.id, "approved", "again");
    commitAs(dir, ALICE, "approve again", [FILE]);
    const one = await judge(dir);
    expect(one).toMatchObject({ status: "False", reason: "Pending", approvers: [ALICE] });
    expect(one.message).toBe(`request ${request.id} has 1 of 2 required approvals: an approver (${ALICE}, ${BOB}) runs \`gaffer approve build\``);
    await addEntry(dir, "build", request.id, "approved");
    commitAs(dir, BOB, "approve", [FILE]);
    expect(await judge(dir)).toMatchObject({ status: "True", reason: "Granted", approvers: [ALICE, BOB] });
  });

  it("records each verdict once in the ledger, with ApprovalRejected per refusal and ApprovalGranted once", async () => {
    const dir = await governanceRepo({ request: REQ });
    const db = await ledgerOf(dir);
    await addEntry(dir, "build", REQ.id, "approved", "by mallory");
    commitAs(dir, MALLORY, "approve", [FILE]);
    await addEntry(dir, "build", REQ.id, "approved", "by alice");
    const record = async () => recordApprovalVerdicts(db, { stage: "build", judgement: await judge(dir), actor: "controller" });
    expect(await record()).toBe(2);
    expect(await record()).toBe(0);
    commitAs(dir, ALICE, "approve", [FILE]);
    expect(await record()).toBe(1);
    expect(await record()).toBe(0);
    expect((await listApprovalRecords(db, "build")).map((r) => [r.comment, r.verdict])).toEqual([
      ["by mallory", "Unauthorized"],
      ["by alice", "Uncommitted"],
      ["by alice", "Granted"],
    ]);
    const events = await listEvents(db, { subject: "stage/build" });
    expect(events.map((e) => [e.action, e.payload.verdict ?? null])).toEqual([
      ["ApprovalRejected", "Unauthorized"],
      ["ApprovalRejected", "Uncommitted"],
      ["ApprovalCounted", "Granted"],
      ["ApprovalGranted", null],
    ]);
    expect(events[0]!.commitSha).toMatch(/^[0-9a-f]{40}$/);
  });

  it("treats a control dir outside git as all uncommitted", async () => {
    const dir = tempDir();
    await writeStageStatus(dir, "build", stageWith(REQ));
    await addEntry(dir, "build", REQ.id, "approved");
    expect(await judge(dir)).toMatchObject({ reason: "Uncommitted" });
    expect(AUTHOR).toBe("author@example.com");
  });
});
