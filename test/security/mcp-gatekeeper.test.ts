import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { listEvents } from "../../state/events.repository.js";
import { LEDGER_FILE, openLedger, type Ledger } from "../../state/ledger.js";
import { GAFFER_BIN, runGaffer } from "../helpers/cli.js";
import { flowFixture } from "../helpers/flow-fixture.js";
import { git } from "../helpers/git-repo.js";
import { recordStagePhase } from "../helpers/stage-phase.js";
import { mcpClient } from "../mcp/mcp-client.js";

type Structured = Record<string, any>;

async function ledgerOf(dir: string): Promise<Ledger> {
  const db = await openLedger(join(dir, LEDGER_FILE));
  onTestFinished(() => db.destroy());
  return db;
}

function errorOf(result: { structuredContent?: unknown; content?: unknown }): { code: string; message: string; line: string } {
  const error = (result.structuredContent as Structured).error;
  return { code: error.code, message: error.message, line: (result.content as { text: string }[])[0]!.text };
}

describe("MCP tools go through the gatekeeper", () => {
  it("refuses merge_worktree and create_session before the stage is approved and for unknown tasks, each with a code and an ActionRefused event", async () => {
    const f = flowFixture();
    const mcp = await mcpClient(f.dir);
    // Nothing ran yet: the build stage has not been started by the controller.
    const early = errorOf(await mcp.call("merge_worktree", { task_id: "add-a" }));
    expect(early.line).toBe('error: POLICY_STAGE_NOT_RUNNING: stage "build" of task add-a has not been started by the controller: work on its tasks goes on only while the controller runs the stage (`gaffer status` says what it waits for)');
    await recordStagePhase(f.dir, "build", "AwaitingApproval");
    const notApproved = "error: POLICY_STAGE_NOT_APPROVED: stage \"build\" of task add-a is AwaitingApproval: its plan is not approved yet; an approver runs `gaffer approve build` and the controller (`gaffer up`) starts it";
    expect(errorOf(await mcp.call("merge_worktree", { task_id: "add-a" })).line).toBe(notApproved);
    expect(errorOf(await mcp.call("create_session", { task_id: "add-a", agent_type: "scripted" })).line).toBe(notApproved);
    expect(errorOf(await mcp.call("create_worktree", { task_id: "add-a" })).code).toBe("POLICY_STAGE_NOT_APPROVED");
    expect(errorOf(await mcp.call("commit_changes", { task_id: "add-a", message: "feat(add-a): x" })).code).toBe("POLICY_STAGE_NOT_APPROVED");

    const unknown = errorOf(await mcp.call("create_session", { task_id: "no-such-task", agent_type: "scripted" }));
    expect(unknown.line).toBe('error: NOT_FOUND: no Task named "no-such-task" in the applied manifests (known: write-plan, add-a); `gaffer get tasks` lists them');
    expect(errorOf(await mcp.call("merge_worktree", { task_id: "no-such-task" })).code).toBe("NOT_FOUND");

    const events = await listEvents(await ledgerOf(f.dir), { action: "ActionRefused" });
    expect(events.map((e) => [e.actor, e.subject, e.payload.verb, e.payload.code, e.payload.entry])).toEqual([
      ["mcp", "task/add-a", "mergeTask", "POLICY_STAGE_NOT_RUNNING", "mcp"],
      ["mcp", "task/add-a", "mergeTask", "POLICY_STAGE_NOT_APPROVED", "mcp"],
      ["mcp", "task/add-a", "createSession", "POLICY_STAGE_NOT_APPROVED", "mcp"],
      ["mcp", "task/add-a", "createWorktree", "POLICY_STAGE_NOT_APPROVED", "mcp"],
      ["mcp", "task/add-a", "commitChanges", "POLICY_STAGE_NOT_APPROVED", "mcp"],
      ["mcp", "task/no-such-task", "createSession", "NOT_FOUND", "mcp"],
      ["mcp", "task/no-such-task", "mergeTask", "NOT_FOUND", "mcp"],
    ]);
    expect(git(f.target, "rev-list", "--count", "main").trim()).toBe("1");
  });

  it("starts a session only in the task's own worktree: never ../../, /etc, the main checkout, the control dir or a removed worktree", async () => {
    const f = flowFixture();
    await recordStagePhase(f.dir, "build", "Running");
    const mcp = await mcpClient(f.dir);
    const noWorktree = errorOf(await mcp.call("create_session", { task_id: "add-a", agent_type: "scripted" }));
    expect(noWorktree.line).toBe("error: NOT_FOUND: task add-a has no worktree; create it first (create_worktree, or `gaffer worktree create --task add-a`)");
    const wt = ((await mcp.call("create_worktree", { task_id: "add-a" })).structuredContent as Structured).worktree.path as string;
    for (const outside of ["../../", "/etc", "../target", "."]) {
      const refused = errorOf(await mcp.call("create_session", { task_id: "add-a", agent_type: "scripted", worktree: outside }));
      expect(refused.code, outside).toBe("PATH_ESCAPE");
      expect(refused.message, outside).toMatch(new RegExp(`is not the worktree of task add-a \\(${wt.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\): a session starts only in its task's own worktree$`));
    }
    // A removed worktree is never replaced by the main checkout.
    git(f.target, "worktree", "remove", "--force", wt);
    const removed = errorOf(await mcp.call("create_session", { task_id: "add-a", agent_type: "scripted" }));
    expect(removed.line).toMatch(/^error: NOT_FOUND: task add-a has no worktree on disk \(.+ was removed\); create it first/);

    const events = await listEvents(await ledgerOf(f.dir), { action: "ActionRefused" });
    expect(events.map((e) => [e.actor, e.subject, e.payload.verb, e.payload.code, e.payload.entry])).toEqual([
      ["mcp", "task/add-a", "createSession", "NOT_FOUND", "mcp"],
      ["mcp", "task/add-a", "createSession", "PATH_ESCAPE", "mcp"],
      ["mcp", "task/add-a", "createSession", "PATH_ESCAPE", "mcp"],
      ["mcp", "task/add-a", "createSession", "PATH_ESCAPE", "mcp"],
      ["mcp", "task/add-a", "createSession", "PATH_ESCAPE", "mcp"],
      ["mcp", "task/add-a", "createSession", "NOT_FOUND", "mcp"],
    ]);
    expect((await listEvents(await ledgerOf(f.dir), { action: "SessionCreated" })).length).toBe(0);
  });

  it("rejects unknown arguments (strict schemas): no override, no approval, no directory smuggled in", async () => {
    const f = flowFixture();
    const mcp = await mcpClient(f.dir);
    const smuggled = await mcp.call("merge_worktree", { task_id: "add-a", override: "because" });
    expect(smuggled.isError).toBe(true);
    expect((smuggled.content as { text: string }[])[0]!.text).toMatch(/^MCP error -32602: Input validation error: Invalid arguments for tool merge_worktree: .*Unrecognized key: "override"/s);
    const extra = await mcp.call("read_project_memory", { kind: "note", dir: "/etc" });
    expect((extra.content as { text: string }[])[0]!.text).toMatch(/Unrecognized key: "dir"/);
    const { tools } = await mcp.client.listTools();
    expect(tools.map((t) => t.name).filter((n) => /approve|override|reject/.test(n))).toEqual([]);
  });

  it("refuses a --dir that does not exist before serving", async () => {
    const missing = join(flowFixture().dir, "no-such-dir");
    const result = await runGaffer(["mcp", "--dir", missing]);
    expect(result).toMatchObject({ exitCode: 1, stdout: "", stderr: `error: NOT_FOUND: control dir ${missing} does not exist or is not a directory; pass --dir with an existing control dir (\`gaffer init --dir DIR\` creates one)` });
    expect(existsSync(missing)).toBe(false);
    expect(GAFFER_BIN).toBeTruthy();
  });
});
