import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runGaffer } from "../helpers/cli.js";
import { controlDir } from "../helpers/control-dir.js";
import { tempDir } from "../helpers/temp.js";

function fixture() {
  const home = join(tempDir(), "home");
  mkdirSync(home);
  const f = controlDir({
    agents: [{ name: "claude", profile: "claude", env: { HOME: home } }, { name: "codex", profile: "codex", env: { HOME: home } }, { name: "scripted", profile: "scripted" }],
    stages: [{ name: "build", roles: [{ name: "builder", allowedAgents: ["claude"] }], gate: { commands: [["true"]] } }],
    tasks: [{ name: "t1" }],
  });
  // The default worktree root: beside the target repo (here the control dir itself).
  return { dir: f.dir, home, file: join(home, ".claude.json"), root: `${f.repo}.gaffer-worktrees` };
}

describe("gaffer agents trust", () => {
  it("--dry-run shows the change and writes nothing; then records trust once, atomically, keeping every other setting, with a backup", async () => {
    const f = fixture();
    const original = `${JSON.stringify({ numStartups: 4, projects: { "/elsewhere": { allowedTools: ["Bash"] } } })}\n`;
    writeFileSync(f.file, original);
    const dry = await runGaffer(["agents", "trust", "--dir", f.dir, "--dry-run"]);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`trust for gaffer's worktree root ${f.root}:`);
    expect(dry.stdout).toMatch(/claude\s+\S+\.claude\.json\s+would add/);
    expect(dry.stdout).toContain("(dry run: nothing written");
    expect(readFileSync(f.file, "utf8")).toBe(original);

    const run = await runGaffer(["agents", "trust", "--dir", f.dir, "--json"]);
    expect(run.exitCode, run.stderr).toBe(0);
    const { changes } = JSON.parse(run.stdout) as { changes: { agent: string; action: string; backup: string | null; file: string | null }[] };
    expect(changes.map((c) => [c.agent, c.action])).toEqual([["claude", "add"], ["codex", "add"], ["scripted", "unsupported"]]);
    expect(readFileSync(join(f.home, ".codex", "config.toml"), "utf8")).toBe(`\n[projects."${f.root}"]\ntrust_level = "trusted"\n`);
    expect(JSON.parse(readFileSync(f.file, "utf8"))).toEqual({ numStartups: 4, projects: { "/elsewhere": { allowedTools: ["Bash"] }, [f.root]: { hasTrustDialogAccepted: true } } });
    expect(readFileSync(changes[0]!.backup!, "utf8")).toBe(original);
    expect(readdirSync(f.home).filter((n) => n.endsWith(".tmp"))).toEqual([]);

    const again = await runGaffer(["agents", "trust", "--dir", f.dir, "--json"]);
    expect((JSON.parse(again.stdout) as { changes: { action: string; backup: null }[] }).changes[0]).toMatchObject({ action: "unchanged", backup: null });
  });

  it("refuses a claude config that is not JSON, changing nothing", async () => {
    const f = fixture();
    writeFileSync(f.file, "not json");
    const run = await runGaffer(["agents", "trust", "--dir", f.dir]);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toBe(`error: AGENT_CONFIG_INVALID: ${f.file} is not a JSON object; fix or move it aside (claude recreates it), then run \`gaffer agents trust\` again`);
    expect(readFileSync(f.file, "utf8")).toBe("not json");
    expect(readdirSync(f.home)).toEqual([".claude.json"]);
  });

  it("creates the file when claude never ran in that HOME", async () => {
    const f = fixture();
    expect((await runGaffer(["agents", "trust", "--dir", f.dir])).exitCode).toBe(0);
    expect(existsSync(f.file)).toBe(true);
    expect(JSON.parse(readFileSync(f.file, "utf8"))).toEqual({ projects: { [f.root]: { hasTrustDialogAccepted: true } } });
  });

  it("records gemini's trust as TRUST_FOLDER for the root in its trustedFolders.json (gemini trusts the folders below it), keeps other rules, and never overrides a person's DO_NOT_TRUST", async () => {
    const home = join(tempDir(), "home");
    mkdirSync(join(home, ".gemini"), { recursive: true });
    const f = controlDir({
      agents: [{ name: "gemini", profile: "gemini", env: { HOME: home } }],
      stages: [{ name: "build", roles: [{ name: "builder", allowedAgents: ["gemini"] }], gate: { commands: [["true"]] } }],
      tasks: [{ name: "t1" }],
    });
    const root = `${f.repo}.gaffer-worktrees`;
    const file = join(home, ".gemini", "trustedFolders.json");
    const original = `${JSON.stringify({ "/elsewhere": "TRUST_PARENT" }, null, 2)}\n`;
    writeFileSync(file, original);
    const run = await runGaffer(["agents", "trust", "--dir", f.dir, "--json"]);
    expect(run.exitCode, run.stderr).toBe(0);
    const [change] = (JSON.parse(run.stdout) as { changes: { agent: string; action: string; file: string; backup: string }[] }).changes;
    expect(change).toMatchObject({ agent: "gemini", action: "add", file });
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({ "/elsewhere": "TRUST_PARENT", [root]: "TRUST_FOLDER" });
    expect(readFileSync(change!.backup, "utf8")).toBe(original);
    expect((JSON.parse((await runGaffer(["agents", "trust", "--dir", f.dir, "--json"])).stdout) as { changes: { action: string }[] }).changes[0]!.action).toBe("unchanged");

    const refused = `${JSON.stringify({ [root]: "DO_NOT_TRUST" })}\n`;
    writeFileSync(file, refused);
    const no = await runGaffer(["agents", "trust", "--dir", f.dir]);
    expect(no.exitCode).toBe(1);
    expect(no.stderr).toBe(`error: AGENT_CONFIG_INVALID: ${file} has "${root}": "DO_NOT_TRUST"; change it there yourself, gaffer does not rewrite your choice`);
    expect(readFileSync(file, "utf8")).toBe(refused);
  });
});
