import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isAgentEmail } from "../../controller/core/approval-rules.js";
import { evaluateApprovals } from "../../controller/governance/approvals.js";
import { git } from "../helpers/git-repo.js";
import { addEntry, ALICE, governanceRepo, policyFor, requestFor } from "../helpers/governance-fixtures.js";

const REQ = requestFor("build", "c");
const FILE = "status/stages/build.yaml";
const AGENT = { name: "gaffer agent", email: "agent+{session}@gaffer.invalid" };

async function judge(dir: string) {
  return (await evaluateApprovals({ dir, stage: "build", policy: { ...policyFor(), agentAuthor: AGENT } }))!;
}

/** Commits `paths` as the approver, with extra `git commit` arguments. */
function commitAsAlice(dir: string, paths: readonly string[], ...extra: string[]): void {
  git(dir, "add", "--", ...paths);
  git(dir, "-c", `user.email=${ALICE}`, "-c", "user.name=alice", "commit", "-q", "-m", "chore(approval): approve build", ...extra, "--", ...paths);
}

describe("an approval counts only when a person's plain commit added it", () => {
  it("refuses an approver's commit that carries a Gaffer-Session trailer", async () => {
    const dir = await governanceRepo({ request: REQ });
    await addEntry(dir, "build", REQ.id, "approved");
    commitAsAlice(dir, [FILE], "--trailer", "Gaffer-Session: add-a-1a2b3c");
    const sha = git(dir, "rev-parse", "HEAD");
    const judgement = await judge(dir);
    expect(judgement).toMatchObject({ status: "False", reason: "AgentCommit", approvers: [] });
    expect(judgement.verdicts[0]!.message).toBe(`${FILE}:23: ${ALICE} (commit ${sha.slice(0, 7)}) carries a Gaffer-Session: add-a-1a2b3c trailer (made for an agent session); an approval counts only when a person commits it (\`gaffer approve build\` from their own shell)`);
  });

  it("refuses a commit by the agent identity even when policy.approvers lists it", async () => {
    const dir = await governanceRepo({ request: REQ });
    await addEntry(dir, "build", REQ.id, "approved");
    git(dir, "add", FILE);
    git(dir, "-c", "user.email=agent+add-a-1a2b3c@gaffer.invalid", "-c", "user.name=gaffer agent", "commit", "-q", "-m", "chore: approve");
    const judgement = (await evaluateApprovals({ dir, stage: "build", policy: { ...policyFor({ approvers: [ALICE, "agent+add-a-1a2b3c@gaffer.invalid"] }), agentAuthor: AGENT } }))!;
    expect(judgement.reason).toBe("AgentCommit");
    expect(judgement.verdicts[0]!.message).toMatch(/is authored by the agent identity gaffer agent <agent\+add-a-1a2b3c@gaffer\.invalid>; an approval counts only when a person commits it/);
  });

  it("refuses a Gaffer-Task commit (task work or its squash/merge) and one that changes more than status files", async () => {
    const task = await governanceRepo({ request: REQ });
    await addEntry(task, "build", REQ.id, "approved");
    commitAsAlice(task, [FILE], "--trailer", "Gaffer-Task: add-a");
    expect((await judge(task)).verdicts[0]!.message).toMatch(/carries a Gaffer-Task: add-a trailer \(task work or its merge\)/);

    const mixed = await governanceRepo({ request: REQ });
    await addEntry(mixed, "build", REQ.id, "approved");
    writeFileSync(join(mixed, "manifests/project.yaml"), "apiVersion: gaffer/v1\nkind: Project\nmetadata:\n  name: p\nspec:\n  repo: .\n  paused: false\n");
    commitAsAlice(mixed, [FILE, "manifests/project.yaml"]);
    const judgement = await judge(mixed);
    expect(judgement.reason).toBe("NotStatusOnly");
    expect(judgement.verdicts[0]!.message).toMatch(/also changes manifests\/project\.yaml; an approval commit changes only status files/);

    const plain = await governanceRepo({ request: REQ });
    await addEntry(plain, "build", REQ.id, "approved");
    commitAsAlice(plain, [FILE]);
    expect(await judge(plain)).toMatchObject({ status: "True", reason: "Granted", approvers: [ALICE] });
  });

  it("recognises agent emails by the policy template and the gaffer.invalid domain", () => {
    expect(isAgentEmail({ agentAuthor: { name: "bot", email: "bots+{agent}-{session}@corp.example" } }, "bots+claude-x1@corp.example")).toBe(true);
    expect(isAgentEmail({ agentAuthor: { name: "bot", email: "bots+{agent}-{session}@corp.example" } }, "alice@corp.example")).toBe(false);
    expect(isAgentEmail({}, "Anything@Gaffer.Invalid")).toBe(true);
  });
});
