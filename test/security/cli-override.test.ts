import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { listEvents } from "../../state/events.repository.js";
import { runGaffer } from "../helpers/cli.js";
import { flowFixture } from "../helpers/flow-fixture.js";
import { ledgerOf } from "../helpers/governance-fixtures.js";

const CONTROLLER = fileURLToPath(new URL("../../controller/", import.meta.url));

describe("a person's override at the CLI", () => {
  it("is refused inside a session (approve too: test/security/agent-forgery.test.ts), recorded as OverrideUsed outside one", async () => {
    const f = flowFixture();
    const inside = { GAFFER_SESSION: "add-a-0f0f0f" };
    const refused = await runGaffer(["worktree", "create", "--task", "add-a", "--override", "agent wants it", "--dir", f.dir], { env: inside });
    expect(refused).toMatchObject({ exitCode: 1, stderr: "error: POLICY_OVERRIDE_FORBIDDEN: --override is refused inside gaffer session add-a-0f0f0f: an agent cannot override a person's stage approval; run it from your own shell" });
    const plain = await runGaffer(["worktree", "create", "--task", "add-a", "--dir", f.dir]);
    expect(plain).toMatchObject({ exitCode: 1, stderr: 'error: POLICY_STAGE_NOT_RUNNING: stage "build" of task add-a has not been started by the controller: work on its tasks goes on only while the controller runs the stage (`gaffer status` says what it waits for); a person may act anyway with --override REASON (recorded in the ledger)' });
    const person = await runGaffer(["worktree", "create", "--task", "add-a", "--override", "try it by hand", "--dir", f.dir]);
    expect(person.exitCode, person.stderr).toBe(0);

    const db = await ledgerOf(f.dir);
    expect((await listEvents(db, { action: "ActionRefused" })).map((e) => [e.subject, e.payload.verb, e.payload.code, e.payload.session])).toEqual([
      ["task/add-a", "createWorktree", "POLICY_OVERRIDE_FORBIDDEN", "add-a-0f0f0f"],
      ["task/add-a", "createWorktree", "POLICY_STAGE_NOT_RUNNING", null],
    ]);
    expect((await listEvents(db, { action: "OverrideUsed" })).map((e) => [e.subject, e.payload.verb, e.payload.phase, e.payload.reason])).toEqual([["task/add-a", "createWorktree", null, "try it by hand"]]);
  });

  it("the entry points import the application layer, never each other", () => {
    const imports = (folder: string) => readdirSync(join(CONTROLLER, folder)).flatMap((file) => [...readFileSync(join(CONTROLLER, folder, file), "utf8").matchAll(/from "(\.\.\/[^"]+)"/g)].map((m) => `${folder}/${file} -> ${m[1]}`));
    expect(imports("mcp").filter((l) => l.includes("../cli/"))).toEqual([]);
    expect(imports("app").filter((l) => /\.\.\/(cli|mcp)\//.test(l))).toEqual([]);
  });
});
