import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { readMemory, writeMemory } from "../../controller/memory/project-memory.js";
import { listEvents } from "../../state/events.repository.js";
import { GAFFER_BIN, runGaffer } from "../helpers/cli.js";
import { ledgerOf } from "../helpers/governance-fixtures.js";
import { tempDir } from "../helpers/temp.js";

describe("project memory", () => {
  it("writes markdown with front matter through the CLI and reads it back, filtered", async () => {
    const dir = tempDir();
    const a = await runGaffer(["memory", "write", "decision", "--title", "Use SQLite: WAL", "--body", "Because it is *embedded*.", "--stage", "build", "--dir", dir], { env: { GAFFER_ACTOR: "alice" } });
    expect(a.stderr).toBe("");
    expect(a.exitCode).toBe(0);
    expect(a.stdout).toMatch(/^wrote decision "Use SQLite: WAL" to memory\/\d{8}-\d{6}-decision-use-sqlite-wal\.md \(memory #1\)\n?$/);
    const path = /to (\S+) /.exec(a.stdout)![1]!;
    const text = readFileSync(join(dir, path), "utf8");
    expect(text).toMatch(/^---\nkind: decision\ntitle: "Use SQLite: WAL"\nstage: build\ntask: null\nauthor: cli:alice\ncreated: \d{4}-\d\d-\d\dT[\d:.]+Z\n---\n\nBecause it is \*embedded\*\.\n$/);
    writeFileSync(join(dir, "plan.md"), "# Plan\n\n1. build\n2. test\n");
    expect((await runGaffer(["memory", "write", "plan", "--title", "Plan", "--file", join(dir, "plan.md"), "--stage", "plan", "--dir", dir])).exitCode).toBe(0);
    const piped = await execa(process.execPath, [GAFFER_BIN, "memory", "write", "review", "--title", "Review of add-login", "--file", "-", "--task", "add-login", "--stage", "build", "--author", "reviewer@build", "--dir", dir], { input: "- finding: missing test\n", reject: false, env: { TMUX: "" } });
    expect(piped.exitCode).toBe(0);
    const all = JSON.parse((await runGaffer(["memory", "read", "--json", "--dir", dir])).stdout) as { kind: string; title: string; body: string; author: string; task: string | null }[];
    expect(all.map((e) => [e.kind, e.title, e.body, e.author, e.task])).toEqual([
      ["decision", "Use SQLite: WAL", "Because it is *embedded*.\n", "cli:alice", null],
      ["plan", "Plan", "# Plan\n\n1. build\n2. test\n", expect.stringMatching(/^cli:/), null],
      ["review", "Review of add-login", "- finding: missing test\n", "reviewer@build", "add-login"],
    ]);
    const build = JSON.parse((await runGaffer(["memory", "read", "--stage", "build", "--json", "--dir", dir])).stdout) as { title: string }[];
    expect(build.map((e) => e.title)).toEqual(["Use SQLite: WAL", "Review of add-login"]);
    const plans = await runGaffer(["memory", "read", "plan", "--dir", dir]);
    expect(plans.stdout).toMatch(/^## \[plan\] Plan\n\S+ by cli:\S+ \(stage plan\): memory\/\S+-plan-plan\.md\n\n# Plan\n\n1\. build\n2\. test$/);
    const db = await ledgerOf(dir);
    const events = await listEvents(db, { action: "MemoryWritten" });
    expect(events.map((e) => [e.subject, e.payload.kind])).toEqual([["memory/1", "decision"], ["memory/2", "plan"], ["memory/3", "review"]]);
  });

  it("never overwrites: the same title twice gets two files", async () => {
    const dir = tempDir();
    const db = await ledgerOf(dir);
    const one = await writeMemory({ dir, db, kind: "note", title: "Same", body: "one", author: "t" });
    const two = await writeMemory({ dir, db, kind: "note", title: "Same", body: "two", author: "t" });
    expect(two.path).not.toBe(one.path);
    expect((await readMemory({ dir, db, kind: "note" })).map((e) => e.body)).toEqual(["one\n", "two\n"]);
  });

  it("refuses an unknown kind or an ambiguous body as usage errors", async () => {
    const dir = tempDir();
    const kind = await runGaffer(["memory", "write", "gossip", "--title", "x", "--body", "y", "--dir", dir]);
    expect([kind.exitCode, kind.stderr.trim()]).toEqual([2, 'error: USAGE: memory kind must be one of plan, decision, review, summary, note (got "gossip")']);
    const both = await runGaffer(["memory", "write", "note", "--title", "x", "--body", "y", "--file", "f", "--dir", dir]);
    expect([both.exitCode, both.stderr.trim()]).toEqual([2, "error: USAGE: give the body with exactly one of --file PATH (`-` for stdin) or --body TEXT"]);
    const empty = await runGaffer(["memory", "read", "--dir", dir]);
    expect([empty.exitCode, empty.stdout.trim()]).toEqual([0, "no memory entries"]);
  });
});
