import { execFileSync } from "node:child_process";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readManifestSources, validateDir } from "../../controller/manifest/load.js";
import { formatManifestIssue } from "../../controller/manifest/manifest-issue.js";
import { parseManifestText } from "../../controller/manifest/parse.js";
import { runGaffer } from "../helpers/cli.js";
import { controlDir } from "../helpers/control-dir.js";
import { tempDir } from "../helpers/temp.js";

/** The formatted issues of a control dir's manifests, for one file. */
async function issuesOf(dir: string, file: string): Promise<string[]> {
  const result = await validateDir(dir);
  expect(result.valid).toBe(false);
  return result.issues.filter((i) => i.file === file).map(formatManifestIssue);
}

function aliasBomb(): string {
  const lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
  let previous = "a";
  for (let i = 0; i < 9; i++) {
    lines.push(`b${i}: &b${i} [${Array(10).fill(`*${previous}`).join(", ")}]`);
    previous = `b${i}`;
  }
  return lines.join("\n") + "\n";
}

describe("manifest loading reads only bounded regular files", () => {
  it("a FIFO in manifests/ is refused at once, never opened for a blocking read", async () => {
    const { dir } = controlDir();
    execFileSync("mkfifo", [join(dir, "manifests", "pipe.yaml")]);
    const started = Date.now();
    expect(await issuesOf(dir, "manifests/pipe.yaml")).toEqual(["manifests/pipe.yaml: file is a FIFO (named pipe), not a regular file; gaffer reads only regular files: remove it or replace it with a file"]);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("a symlink to /dev/zero is refused as outside manifests/ (never read)", async () => {
    const { dir } = controlDir();
    symlinkSync("/dev/zero", join(dir, "manifests", "zero.yaml"));
    expect(await issuesOf(dir, "manifests/zero.yaml")).toEqual(["manifests/zero.yaml: file is a symlink to /dev/zero, outside manifests/; gaffer follows symlinks only within manifests/: copy the file in instead"]);
  });

  it("a symlink out of manifests/ is refused; one that stays inside is followed", async () => {
    const { dir } = controlDir({ tasks: [{ name: "one" }] });
    writeFileSync(join(dir, "outside.yaml"), "apiVersion: gaffer/v1\n");
    symlinkSync(join(dir, "outside.yaml"), join(dir, "manifests", "out.yaml"));
    mkdirSync(join(dir, "manifests", "parts"));
    writeFileSync(join(dir, "manifests", "parts", "extra.txt"), "apiVersion: gaffer/v1\nkind: Task\nmetadata: {name: linked}\nspec: {stage: build, role: builder, prompt: p}\n");
    symlinkSync("parts/extra.txt", join(dir, "manifests", "in.yaml"));
    const issues = (await validateDir(dir)).issues.map(formatManifestIssue);
    expect(issues).toEqual([`manifests/out.yaml: file is a symlink to ${join(dir, "outside.yaml")}, outside manifests/; gaffer follows symlinks only within manifests/: copy the file in instead`]);
    const sources = await readManifestSources(dir);
    expect(sources.find((s) => s.file === "manifests/in.yaml")?.problem).toBeUndefined();
  });

  it("a symlink inside manifests/ to a FIFO is refused as not a regular file", async () => {
    const { dir } = controlDir();
    execFileSync("mkfifo", [join(dir, "manifests", "pipe")]);
    symlinkSync("pipe", join(dir, "manifests", "via.yaml"));
    expect(await issuesOf(dir, "manifests/via.yaml")).toEqual(["manifests/via.yaml: file is a FIFO (named pipe), not a regular file; gaffer reads only regular files: remove it or replace it with a file"]);
  });

  it("a 5 MB file is refused with the limit named, without reading it whole", async () => {
    const { dir } = controlDir();
    writeFileSync(join(dir, "manifests", "big.yaml"), `# ${"x".repeat(5_000_000)}\n`);
    expect(await issuesOf(dir, "manifests/big.yaml")).toEqual(["manifests/big.yaml: file is larger than 1 MiB, the limit for one file; split it into several files"]);
  });

  it("validate, status and plan report the FIFO promptly (exit 1, MANIFEST_INVALID), never hang", async () => {
    const { dir } = controlDir({ tasks: [{ name: "one" }] });
    execFileSync("mkfifo", [join(dir, "manifests", "pipe.yaml")]);
    for (const args of [["validate"], ["status"], ["plan", "build"]]) {
      const result = await runGaffer([...args, "--dir", dir]);
      expect(result.exitCode, args.join(" ")).toBe(1);
      expect(result.stdout + result.stderr).toContain("manifests/pipe.yaml: file is a FIFO (named pipe), not a regular file");
    }
  }, 60_000);
});

describe("YAML features a manifest may not use are position-reported issues", () => {
  const issues = (text: string): string[] => parseManifestText("manifests/x.yaml", text).issues.map(formatManifestIssue);

  it("an alias bomb is refused at its first alias, not expanded", () => {
    expect(issues(aliasBomb())).toEqual(["manifests/x.yaml:2:10: too many aliases: the document expands to more than 100 alias uses (an alias bomb?); write the values out"]);
  });

  it("an alias with no anchor is an issue at the alias", () => {
    expect(issues("kind: Task\nmetadata:\n  name: *missing\n")).toEqual(["manifests/x.yaml:3:9: alias *missing names no anchor defined before it; define `&missing` first"]);
  });

  it("an unknown tag (and a known non-core one like !!binary) is an issue at the tag", () => {
    expect(issues("kind: Task\nmetadata: !foo {name: x}\n")).toEqual(["manifests/x.yaml:2:11: unknown YAML tag !foo: manifests hold plain data (strings, numbers, booleans, lists, mappings); remove the tag"]);
    expect(issues("kind: Task\nspec: {prompt: !!binary aGVsbG8=}\n")).toEqual(["manifests/x.yaml:2:16: unknown YAML tag tag:yaml.org,2002:binary: manifests hold plain data (strings, numbers, booleans, lists, mappings); remove the tag"]);
  });

  it("%YAML 9.9 is an issue at the directive", () => {
    expect(issues("%YAML 9.9\n---\nkind: Task\n")).toEqual(["manifests/x.yaml:1:7: Unsupported YAML version 9.9: gaffer reads YAML 1.2 (write `%YAML 1.2` or drop the directive)"]);
  });

  it("the CLI shows these as MANIFEST_INVALID with positions, never INTERNAL", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, "manifests"));
    writeFileSync(join(dir, "manifests", "bomb.yaml"), aliasBomb());
    const result = await runGaffer(["validate", "--dir", dir]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout + result.stderr).toContain("manifests/bomb.yaml:2:10: too many aliases");
    expect(result.stderr).not.toContain("INTERNAL");
  }, 30_000);
});
