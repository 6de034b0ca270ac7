import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { MCP_TOOLS } from "../../controller/mcp/mcp-server.js";
import { listEvents } from "../../state/events.repository.js";
import { LEDGER_FILE, openLedger, type Ledger } from "../../state/ledger.js";
import { readStageStatus } from "../../controller/status/status-store.js";
import { runGaffer } from "../helpers/cli.js";
import { APPROVER, flowFixture } from "../helpers/flow-fixture.js";
import { recordStagePhase } from "../helpers/stage-phase.js";
import { waitFor } from "../helpers/temp.js";
import { mcpClient } from "./mcp-client.js";

async function ledgerOf(dir: string): Promise<Ledger> {
  const db = await openLedger(join(dir, LEDGER_FILE));
  onTestFinished(() => db.destroy());
  return db;
}

type Structured = Record<string, any>;

describe("gaffer mcp (SDK client over stdio)", () => {
  it("lists the 14 tools of the contract and 3 listing tools, each with a strict described input schema, an output schema and annotations", async () => {
    const f = flowFixture();
    const mcp = await mcpClient(f.dir);
    const { tools } = await mcp.client.listTools();
    expect(tools.map((t) => t.name)).toEqual([...MCP_TOOLS]);
    expect(MCP_TOOLS).toHaveLength(17);
    for (const tool of tools) {
      expect(tool.description?.length ?? 0, tool.name).toBeGreaterThan(60);
      expect(tool.inputSchema.type, tool.name).toBe("object");
      expect(tool.inputSchema.additionalProperties, tool.name).toBe(false);
      expect(tool.outputSchema?.type, tool.name).toBe("object");
      expect(typeof tool.annotations?.readOnlyHint, tool.name).toBe("boolean");
      expect(tool.annotations?.openWorldHint, tool.name).toBe(false);
      const props = Object.entries(tool.inputSchema.properties ?? {}) as [string, { description?: string }][];
      if (tool.name !== "list_stages") expect(props.length, tool.name).toBeGreaterThan(0);
      for (const [prop, schema] of props) expect(schema.description, `${tool.name}.${prop}`).toBeTruthy();
    }
    const hints = Object.fromEntries(tools.map((t) => [t.name, [t.annotations?.readOnlyHint, t.annotations?.destructiveHint, t.annotations?.idempotentHint]]));
    expect(hints).toMatchObject({
      read_session_output: [false, false, true], close_session: [false, true, true], merge_worktree: [false, true, false],
      send_command: [false, true, false], plan_stage_allocation: [true, false, true], list_sessions: [true, false, true],
    });
    const create = tools.find((t) => t.name === "create_session")!;
    expect(create.inputSchema.required).toEqual(["task_id", "agent_type"]);
  });

  it("runs create_session -> send_command -> read_session_output -> close_session with the scripted agent in the task's worktree, ledgered as mcp", async () => {
    const f = flowFixture();
    await recordStagePhase(f.dir, "build", "Running");
    const mcp = await mcpClient(f.dir);
    const wt = ((await mcp.call("create_worktree", { task_id: "add-a" })).structuredContent as Structured).worktree.path as string;
    const created = await mcp.call("create_session", { task_id: "add-a", agent_type: "scripted" });
    expect(created.isError, JSON.stringify(created)).toBeFalsy();
    const session = (created.structuredContent as Structured).session;
    expect(session).toMatchObject({ task: "add-a", agent: "scripted", role: "builder", stage: "build", worktree: wt, state: "Idle", tmuxSocket: f.socket });
    expect(created.content).toEqual([{ type: "text", text: `session ${session.id}: Idle (agent scripted, model ${session.model}, worktree ${wt}, tmux -L ${f.socket} attach -t ${session.id})` }]);
    const listed = await mcp.call("list_sessions", { task_id: "add-a" });
    expect((listed.structuredContent as Structured).sessions.map((s: Structured) => s.id)).toEqual([session.id]);

    const sent = await mcp.call("send_command", { session_id: session.id, text: "append notes.txt hello from mcp\ndone noted", wait: "done" });
    expect(sent.isError, JSON.stringify(sent)).toBeFalsy();
    expect((sent.structuredContent as Structured).command).toMatchObject({ sessionId: session.id, seq: 1, state: "done" });
    expect(sent.content).toEqual([{ type: "text", text: `command 1 to session ${session.id}: done` }]);
    expect(readFileSync(join(wt, "notes.txt"), "utf8")).toBe("hello from mcp\n");

    const read = await waitFor(async () => {
      const r = await mcp.call("read_session_output", { session_id: session.id, lines: 3 });
      return (r.structuredContent as Structured).status === "idle" ? r : undefined;
    }, { what: "an idle screen" });
    expect(read.structuredContent).toMatchObject({ sessionId: session.id, text: "SUMMARY: noted\nDONE 1\nscripted> ", rule: "scripted/ready/1", state: "Idle" });
    expect((read.content as { text: string }[])[0]!.text).toMatch(/^SUMMARY: noted\nDONE 1\nscripted> \n--- status: idle \(rule scripted\/ready\/1/);

    const closed = await mcp.call("close_session", { session_id: session.id });
    expect(closed).toMatchObject({ content: [{ type: "text", text: `closed session ${session.id} and released its capacity slot` }], structuredContent: { closed: true, capacityReleased: true, session: { state: "Closed" } } });
    const events = await listEvents(await ledgerOf(f.dir), { subject: `session/${session.id}` });
    expect(events.filter((e) => ["SessionCreated", "SessionClosed"].includes(e.action)).map((e) => [e.action, e.actor])).toEqual([["SessionCreated", "mcp"], ["SessionClosed", "mcp"]]);
    expect(mcp.stderr()).toContain("gaffer mcp: serving 17 tools");
  });

  it("refuses an over-capacity create_session with CAPACITY_EXCEEDED and the structured reason; unknown sessions are SESSION_NOT_FOUND", async () => {
    const f = flowFixture({ capacity: 1 });
    await recordStagePhase(f.dir, "plan", "Running");
    await recordStagePhase(f.dir, "build", "Running");
    const mcp = await mcpClient(f.dir);
    for (const task_id of ["add-a", "write-plan"]) expect((await mcp.call("create_worktree", { task_id })).isError).toBeFalsy();
    const first = await mcp.call("create_session", { task_id: "add-a", agent_type: "scripted" });
    expect(first.isError, JSON.stringify(first)).toBeFalsy();
    const second = await mcp.call("create_session", { task_id: "write-plan", agent_type: "scripted" });
    expect(second).toEqual({
      isError: true,
      content: [{ type: "text", text: "error: CAPACITY_EXCEEDED: global limit is 1 and 1 is in use; close a session (`gaffer session close ID`) or raise spec.capacity" }],
      structuredContent: { error: { code: "CAPACITY_EXCEEDED", message: "global limit is 1 and 1 is in use; close a session (`gaffer session close ID`) or raise spec.capacity", details: { code: "CAPACITY_EXCEEDED", scope: "global", key: "global", limit: 1, inUse: 1, requested: 1 } } },
    });
    const refused = await listEvents(await ledgerOf(f.dir), { action: "CapacityRefused" });
    expect(refused.map((e) => [e.actor, e.subject])).toEqual([["mcp", "task/write-plan"]]);

    const unknown = await mcp.call("send_command", { session_id: "no-such-session", text: "hi" });
    expect(unknown).toEqual({
      isError: true,
      content: [{ type: "text", text: 'error: SESSION_NOT_FOUND: no session "no-such-session"; `gaffer session list` shows the open ones' }],
      structuredContent: { error: { code: "SESSION_NOT_FOUND", message: 'no session "no-such-session"; `gaffer session list` shows the open ones', details: { sessionId: "no-such-session" } } },
    });
    const read = await mcp.call("read_session_output", { session_id: "no-such-session" });
    expect((read.structuredContent as Structured).error.code).toBe("SESSION_NOT_FOUND");
  });

  it("request_stage_approval writes the proposal and request but never approves; only a committed approval does", async () => {
    const f = flowFixture();
    const mcp = await mcpClient(f.dir);
    const proposed = await mcp.call("propose_stage_execution", { stage: "build" });
    const requestId = (proposed.structuredContent as Structured).approvalRequest.id as string;
    expect(requestId).toMatch(/^build-[0-9a-f]{12}$/);

    const requested = await mcp.call("request_stage_approval", { stage: "build" });
    expect(requested.isError, JSON.stringify(requested)).toBeFalsy();
    expect(requested.structuredContent).toMatchObject({ stage: "build", requestId, file: "status/stages/build.yaml", written: true, approved: false, approval: { status: "False", reason: "Pending" } });
    expect((requested.content as { text: string }[])[0]!.text).toBe(
      `approval request ${requestId} for stage build written to status/stages/build.yaml; not approved (Pending): an approver (${APPROVER}) reviews the proposal in status/stages/build.yaml and runs \`gaffer approve build\` (or \`gaffer reject build\`) in ${f.dir}: the approval counts once committed`,
    );
    const status = await readStageStatus(f.dir, "build");
    expect(status.status?.approvalRequest?.id).toBe(requestId);
    expect(status.status?.proposal?.worktrees.map((w) => w.task)).toEqual(["add-a"]);
    expect(status.status?.conditions.find((c) => c.type === "Approved")).toMatchObject({ status: "False", reason: "Pending" });
    expect(status.text).toMatch(/\napprovals: \[\]\n$/);
    const events = await listEvents(await ledgerOf(f.dir), { subject: "stage/build" });
    expect(events.map((e) => [e.action, e.actor, e.payload.requestId])).toEqual([["ApprovalRequested", "mcp", requestId]]);

    const again = await mcp.call("request_stage_approval", { stage: "build" });
    expect(again.structuredContent).toMatchObject({ requestId, written: false, approved: false });
    const noNeed = await mcp.call("request_stage_approval", { stage: "plan" });
    expect(noNeed.content).toEqual([{ type: "text", text: 'error: APPROVAL_NOT_REQUIRED: stage "plan" needs no approval (it has no needs and approval: none); it runs without one' }]);

    const approve = await runGaffer(["approve", "build", "--dir", f.dir], { env: { GIT_AUTHOR_EMAIL: APPROVER, GIT_COMMITTER_EMAIL: APPROVER } });
    expect(approve.exitCode, approve.stderr).toBe(0);
    const granted = await mcp.call("request_stage_approval", { stage: "build" });
    expect(granted.structuredContent).toMatchObject({ requestId, approved: true, approval: { status: "True", reason: "Granted" } });
  });

  it("drives the workspace and governance tools through the same core: worktree, commit, gate, merge, memory", async () => {
    const f = flowFixture();
    await recordStagePhase(f.dir, "build", "Running");
    const mcp = await mcpClient(f.dir);
    const plan = await mcp.call("plan_stage_allocation", { stage: "build", requested_parallelism: 2 });
    expect(plan.structuredContent).toMatchObject({ stage: "build", feasible: true, roles: [{ role: "builder", requested: 2, allocated: 2 }] });
    const worktree = await mcp.call("create_worktree", { task_id: "add-a" });
    expect(worktree.structuredContent).toMatchObject({ task: "add-a", action: "created", worktree: { branch: "gaffer/build/add-a" } });
    const path = (worktree.structuredContent as Structured).worktree.path as string;
    writeFileSync(join(path, "a.txt"), "alpha\n");
    const commit = await mcp.call("commit_changes", { task_id: "add-a", message: "feat(add-a): add a" });
    expect(commit.structuredContent).toMatchObject({ task: "add-a", noop: false, summary: { added: 1 } });
    const gate = await mcp.call("run_quality_gate", { task_id: "add-a" });
    expect(gate.structuredContent).toMatchObject({ task: "add-a", passed: true, commands: [{ command: ["git", "diff", "--check", "HEAD~1"], state: "passed" }] });
    const merge = await mcp.call("merge_worktree", { task_id: "add-a" });
    expect(merge.structuredContent).toMatchObject({ merge: { task: "add-a", state: "merged", target: "main" } });
    const resolve = await mcp.call("resolve_merge_conflict", { task_id: "add-a" });
    expect((resolve.structuredContent as Structured).error.code).toBe("NOT_FOUND");

    const wrote = await mcp.call("write_project_memory", { kind: "note", title: "From MCP", body: "merged add-a", task: "add-a" });
    expect(wrote.structuredContent).toMatchObject({ kind: "note", title: "From MCP", author: "mcp" });
    const read = await mcp.call("read_project_memory", { kind: "note", task: "add-a" });
    expect((read.structuredContent as Structured).entries.map((e: Structured) => [e.title, e.body.trim()])).toEqual([["From MCP", "merged add-a"]]);
    const actors = new Set((await listEvents(await ledgerOf(f.dir), { subject: "task/add-a" })).map((e) => e.actor));
    expect([...actors]).toEqual(["mcp"]);
  });
});
