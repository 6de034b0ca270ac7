import { describe, expect, it } from "vitest";
import { createSession } from "../../controller/sessions/index.js";
import { readCapacityUsage } from "../../state/capacity.repository.js";
import { controlDir } from "../helpers/control-dir.js";
import { runGaffer } from "../helpers/cli.js";
import { sessionFixture } from "../helpers/session-fixture.js";

const MISSING = "gaffer-test-no-such-agent-cli";

describe("missing agents", () => {
  it("refuses to start an agent whose binary is not on PATH with AGENT_NOT_INSTALLED and the install hint; nothing reserved", async () => {
    const f = await sessionFixture({ agent: { command: [MISSING, "--model", "{model}"] } });
    const error = await createSession(f.ctx, { task: "round-trip", agent: "scripted", worktree: f.dir }).catch((e: unknown) => e as Error & { code: string });
    expect(error).toMatchObject({ code: "AGENT_NOT_INSTALLED", message: `agent "scripted" cannot start: \`${MISSING}\` is not on PATH; install it (it ships with gaffer: reinstall gaffer) or set the AgentPool agent's command` });
    expect((await readCapacityUsage(f.ctx.db)).global).toBe(0);
    expect(await f.ctx.db.selectFrom("sessions").select("id").execute()).toEqual([]);
  });

  it("plan falls back to the next allowed agent and says so; validate notes it with the hint", async () => {
    const fixture = controlDir({
      agents: [{ name: "ghost", command: [MISSING], capacity: 2 }, { name: "scripted", profile: "scripted", capacity: 2 }],
      tasks: [{ name: "t1" }],
      stages: [{ name: "build", approval: "none", roles: [{ name: "builder", count: 1, allowedAgents: ["ghost", "scripted"] }], gate: { commands: [["true"]] } }],
    });
    const plan = await runGaffer(["plan", "build", "--dir", fixture.dir]);
    expect(plan.exitCode, plan.stderr).toBe(0);
    const hint = `agent "ghost" cannot start: \`${MISSING}\` is not on PATH; install it (see the agent's own install instructions) or set the AgentPool agent's command`;
    expect(plan.stdout).toContain(`builder: fell back past AGENT_NOT_INSTALLED: ${hint}`);
    const json = JSON.parse((await runGaffer(["plan", "build", "--json", "--dir", fixture.dir])).stdout) as { roles: { assignments: { agent: string }[]; skipped: unknown[] }[] };
    expect(json.roles[0]!.assignments.map((a) => a.agent)).toEqual(["scripted"]);
    expect(json.roles[0]!.skipped).toEqual([{ code: "AGENT_NOT_INSTALLED", agent: "ghost", detail: hint }]);
    const validate = await runGaffer(["validate", "--dir", fixture.dir]);
    expect({ exitCode: validate.exitCode, stderr: validate.stderr }).toEqual({ exitCode: 0, stderr: "" });
    expect(validate.stdout.split("\n").slice(1)).toEqual([`note: AGENT_NOT_INSTALLED: ${hint}`]);
  });
});
