import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { ControlDir } from "../../controller/app/control-dir.js";
import { createSession, readOutput, sendCommand } from "../../controller/app/sessions.js";
import { createWorktrees, mergeTask } from "../../controller/app/workspace.js";
import type { GafferError } from "../../controller/errors.js";
import { requestStageApproval } from "../../controller/app/stage-approval.js";
import { evaluateApprovals } from "../../controller/governance/approvals.js";
import { listEvents } from "../../state/events.repository.js";
import { GAFFER_BIN } from "../helpers/cli.js";
import { controlDir } from "../helpers/control-dir.js";
import { git } from "../helpers/git-repo.js";
import { testTmux } from "../helpers/session-fixture.js";
import { recordStagePhase } from "../helpers/stage-phase.js";

const APPROVER = "alice@example.com";
const FILE = "status/stages/build.yaml";
const GAFFER = `${process.execPath} ${GAFFER_BIN}`;

/** Control dir == target repo (the README's layout); the person at this machine is the approver. */
async function controlIsTarget() {
  const tmux = testTmux();
  const builder = { name: "builder", count: 1, allowedAgents: ["scripted"] };
  const fx = controlDir({
    project: { tmuxSocket: tmux.socket, policy: { approvers: [APPROVER] } },
    stages: [
      { name: "plan", approval: "none", roles: [{ ...builder, name: "planner" }], gate: { commands: [["true"]] } },
      { name: "build", needs: ["plan"], roles: [builder], gate: { commands: [["true"]] } },
    ],
    tasks: [{ name: "write-plan", stage: "plan" }, { name: "add-a", stage: "build" }],
  });
  git(fx.dir, "config", "user.email", APPROVER);
  const ctx = new ControlDir(fx.dir);
  const request = await requestStageApproval(ctx, "build");
  await ctx.close();
  git(fx.dir, "add", "status");
  git(fx.dir, "commit", "-q", "-m", "chore(status): propose build");
  await recordStagePhase(fx.dir, "plan", "Running");
  await recordStagePhase(fx.dir, "build", "AwaitingApproval");
  return { dir: fx.dir, requestId: request.requestId };
}

describe("an agent in a session cannot approve its own stage", () => {
  it("tries every forgery route with the scripted agent; the build stage stays unapproved with the reason", async () => {
    const { dir, requestId } = await controlIsTarget();
    // The person's side runs in-process through the application layer (the CLI's code path); the agent runs real CLIs.
    const ctx = new ControlDir(dir);
    onTestFinished(() => ctx.close());
    await createWorktrees(ctx, { tasks: ["write-plan"] });
    const { id, worktree } = await createSession(ctx, { task: "write-plan", agent: "scripted" });
    const send = async (text: string) => {
      const command = await sendCommand(ctx, { sessionId: id, text, waitFor: "done" });
      return { state: command.state, summary: command.summary };
    };
    const mainHead = git(dir, "rev-parse", "main");
    const forged = readFileSync(join(dir, FILE), "utf8").replace(/approvals: \[\]\n$/, `approvals:\n  - requestId: ${requestId}\n    decision: approved\n`);
    expect(forged).toContain(`requestId: ${requestId}`);

    // 1. `gaffer approve` from inside the session.
    expect(await send(`run ${GAFFER} approve build --dir ${dir}`)).toEqual({ state: "failed", summary: `ERROR: ${process.execPath} exited 1` });
    const screen = await readOutput(ctx, { sessionId: id, lines: 40 });
    expect(screen.text.replace(/\n/g, "")).toContain(`error: APPROVAL_FROM_SESSION: refusing to approve stage build from inside gaffer session ${id} (GAFFER_SESSION is set): approvals are a person's decision; run \`gaffer approve build\` from your own shell`);
    expect(git(dir, "rev-parse", "main")).toBe(mainHead);

    // 2. Edit the status file in the worktree and commit it through gaffer.
    expect((await send(`write ${FILE} <<END\n${forged}END\ndone forged`)).state).toBe("done");
    expect((await send(`run ${GAFFER} commit --task write-plan -m "chore(write-plan): approve build" --dir ${dir}`)).state).toBe("failed");

    // 3. Commit it with git on the task branch, then have it merged.
    expect((await send(`run git commit -q -a -m "chore(write-plan): approve build"\ndone committed`)).state).toBe("done");
    expect(git(worktree, "log", "-1", "--format=%an <%ae>")).toBe(`gaffer agent <agent+${id}@gaffer.invalid>`);
    const merge = await mergeTask(ctx, { task: "write-plan" }).catch((error: GafferError) => error);
    expect((merge as GafferError).toLine()).toMatch(new RegExp(`^error: POLICY_PROTECTED_PATH: merge \\d+ of task write-plan changes the control repo's ${FILE}: manifests/, status/ and memory/ change only by a person's commit`));
    expect(git(dir, "rev-parse", "main")).toBe(mainHead);

    // 4. Commit it straight into the control repo's checkout: it lands, but as the agent's.
    expect((await send(`write ${join(dir, FILE)} <<END\n${forged}END\nrun git -C ${dir} commit -q -m "chore(approval): approve build" -- ${FILE}\ndone landed`)).state).toBe("done");
    const landed = git(dir, "rev-parse", "main");
    expect(landed).not.toBe(mainHead);

    const judgement = (await evaluateApprovals({ dir, stage: "build", policy: (await ctx.config()).policy }))!;
    expect(judgement).toMatchObject({ status: "False", reason: "AgentCommit", approvers: [] });
    expect(judgement.verdicts.map((v) => v.message)).toEqual([`${FILE}:${judgement.verdicts[0]!.line}: agent+${id}@gaffer.invalid (commit ${landed.slice(0, 7)}) is authored by the agent identity gaffer agent <agent+${id}@gaffer.invalid>; an approval counts only when a person commits it (\`gaffer approve build\` from their own shell)`]);

    const db = await ctx.openLedger();
    const refused = await listEvents(db, { action: "ActionRefused" });
    expect(refused.map((e) => [e.subject, e.payload.verb, e.payload.code, e.payload.session])).toEqual([["stage/build", "approveStage", "APPROVAL_FROM_SESSION", id]]);
    const policy = await listEvents(db, { action: "PolicyRefused" });
    expect(policy.map((e) => [e.subject, e.payload.rule, e.payload.files])).toEqual([["task/write-plan", "POLICY_PROTECTED_PATH", [FILE]], ["task/write-plan", "POLICY_PROTECTED_PATH", [FILE]]]);
    expect(await listEvents(db, { action: "ApprovalCommitted" })).toEqual([]);
    const stage = await db.selectFrom("stages").select("phase").where("name", "=", "build").executeTakeFirst();
    expect(stage?.phase).toBe("AwaitingApproval");
  });
});
