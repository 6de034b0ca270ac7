import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { validateDir } from "../../controller/manifest/load.js";
import { formatManifestIssue } from "../../controller/manifest/manifest-issue.js";
import { runGaffer } from "../helpers/cli.js";
import { tempDir } from "../helpers/temp.js";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const FIXTURES = join(REPO, "test/fixtures/manifests");
const INVALID = join(FIXTURES, "invalid");
const VALID_FULL = join(FIXTURES, "valid-full");
const CASES = readdirSync(INVALID).sort();

function expectedLines(name: string): string[] {
  return readFileSync(join(INVALID, name, "expected.txt"), "utf8").trimEnd().split("\n");
}

/** A stack frame line, as node prints them: four spaces and `at `. */
const STACK_FRAME = /^ {4}at /m;

describe("invalid manifest fixtures (pure validateDir)", () => {
  it("has at least 35 distinct cases", () => {
    expect(CASES.length).toBeGreaterThanOrEqual(35);
  });

  it.each(CASES)("%s", async (name) => {
    const result = await validateDir(join(INVALID, name));
    expect(result.valid).toBe(false);
    expect(result.issues.map(formatManifestIssue)).toEqual(expectedLines(name));
  });
});

describe("valid manifests", () => {
  it("the full example (every schema field) is valid", async () => {
    const result = await validateDir(VALID_FULL);
    expect(result.issues).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it("no approvers are needed when no stage needs an approval", async () => {
    const result = await validateDir(join(FIXTURES, "valid-no-approval"));
    expect(result.issues).toEqual([]);
  });

  it("the repo's own manifests are valid", async () => {
    const result = await validateDir(REPO);
    expect(result.issues).toEqual([]);
  });
});

describe("gaffer validate (real CLI)", () => {
  it("lists every problem of several files sorted, closes with the count, exits 1", async () => {
    const name = "many-problems-in-many-files";
    const result = await runGaffer(["validate", "--dir", join(INVALID, name)]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe("");
    const expected = expectedLines(name);
    expect(result.stderr.split("\n")).toEqual([...expected, `error: MANIFEST_INVALID: ${expected.length} problems found`]);
  });

  it.each(["file-not-utf8", "file-utf16", "yaml-unclosed-quote", "yaml-tab-indentation", "no-project", "cycle-in-needs"])(
    "%s: exact stderr, exit 1, no stack trace",
    async (name) => {
      const result = await runGaffer(["validate", "--dir", join(INVALID, name)]);
      expect(result.exitCode).toBe(1);
      const expected = expectedLines(name);
      const closing = `error: MANIFEST_INVALID: ${expected.length} problem${expected.length === 1 ? "" : "s"} found`;
      expect(result.stderr.split("\n")).toEqual([...expected, closing]);
      expect(result.stderr).not.toMatch(STACK_FRAME);
    },
  );

  it("--json prints {valid, issues: [{file, line, column, pointer, kind, name, code, message}]}", async () => {
    const result = await runGaffer(["validate", "--json", "--dir", join(INVALID, "errors-in-second-document")]);
    expect(result.exitCode).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual({
      valid: false,
      issues: [
        { file: "manifests/tasks.yaml", line: 17, column: 11, pointer: "/spec/prompt", kind: "Task", name: "second", code: "SCHEMA_TYPE", message: "spec.prompt must be a string (got number 42)" },
        { file: "manifests/tasks.yaml", line: 19, column: 3, pointer: "/spec/pasued", kind: "Task", name: "second", code: "SCHEMA_UNKNOWN_FIELD", message: 'unknown field "spec.pasued" (did you mean "paused"?)' },
      ],
    });
  });

  it("--json for a file-level problem has null kind and name", async () => {
    const result = await runGaffer(["validate", "--json", "--dir", join(INVALID, "no-project")]);
    expect(result.exitCode).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual({
      valid: false,
      issues: [{ file: "manifests", line: 0, column: 0, pointer: "", kind: null, name: null, code: "PROJECT_MISSING", message: "no Project document found; exactly one is required (`gaffer init` writes one)" }],
    });
  });

  it("the valid full example exits 0", async () => {
    const result = await runGaffer(["validate", "--dir", VALID_FULL]);
    expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({ exitCode: 0, stderr: "" });
    expect(result.stdout).toMatch(/^manifests valid: 1 project, 2 agent pool\(s\), 1 playbook\(s\), 3 task\(s\) \(generation [0-9a-f]{16}\); task worktrees go under (.+)$/);
    expect(result.stdout.split("task worktrees go under ")[1]).toBe(join(VALID_FULL, ".gaffer/worktrees"));
    const json = await runGaffer(["validate", "--json", "--dir", VALID_FULL]);
    expect(JSON.parse(json.stdout)).toEqual({ valid: true, issues: [], worktreeRoot: join(VALID_FULL, ".gaffer/worktrees") });
  });

  it("a --dir without manifests/ (missing, or a file) is NOT_FOUND, no stack trace", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "plain-file"), "x");
    for (const target of [join(dir, "missing"), join(dir, "plain-file")]) {
      const result = await runGaffer(["validate", "--dir", target]);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toBe(`error: NOT_FOUND: no manifests/ directory in ${target}; run \`gaffer init --dir ${target}\` or pass --dir`);
    }
  });
});

describe("gaffer init", () => {
  it("writes manifests that validate; a second init refuses with ALREADY_EXISTS", async () => {
    const dir = tempDir();
    const first = await runGaffer(["init", "--dir", dir]);
    expect(first.exitCode).toBe(0);
    expect((await runGaffer(["validate", "--dir", dir])).exitCode).toBe(0);
    expect((await validateDir(dir)).issues).toEqual([]);
    const second = await runGaffer(["init", "--dir", dir]);
    expect(second.exitCode).toBe(1);
    expect(second.stderr).toBe(
      `error: ALREADY_EXISTS: manifests/project.yaml, manifests/agents.yaml, manifests/playbook.yaml, manifests/tasks.yaml already exist in ${dir}; init never overwrites (edit them, or init another --dir)`,
    );
    expect(second.stderr).not.toMatch(STACK_FRAME);
  });
});

describe("usage errors", () => {
  it("an unknown verb exits 2 with usage on stderr", async () => {
    const result = await runGaffer(["frobnicate"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr.split("\n")[0]).toBe("error: unknown command 'frobnicate'");
    expect(result.stderr).toContain("Usage: gaffer [options] [command]");
    expect(result.stderr).not.toMatch(STACK_FRAME);
  });

  it("an unknown flag exits 2 with the verb's usage on stderr", async () => {
    const result = await runGaffer(["validate", "--frob"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr.split("\n")[0]).toBe("error: unknown option '--frob'");
    expect(result.stderr).toContain("Usage: gaffer validate [options]");
    expect(result.stderr).not.toMatch(STACK_FRAME);
  });
});
