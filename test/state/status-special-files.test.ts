import { execFileSync } from "node:child_process";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readStageStatus } from "../../controller/status/status-store.js";
import { tempDir } from "../helpers/temp.js";

function statusDir(): string {
  const dir = tempDir();
  mkdirSync(join(dir, "status", "stages"), { recursive: true });
  return dir;
}

describe("status files are read like manifests: bounded regular files only", () => {
  it("a FIFO status file is STATUS_FILE_INVALID at once, never a blocking read", async () => {
    const dir = statusDir();
    execFileSync("mkfifo", [join(dir, "status", "stages", "build.yaml")]);
    await expect(readStageStatus(dir, "build")).rejects.toMatchObject({ code: "STATUS_FILE_INVALID", message: "status/stages/build.yaml: file is a FIFO (named pipe), not a regular file; gaffer reads only regular files: remove it or replace it with a file" });
  });

  it("a symlink to /dev/zero or out of status/ is refused, a 2 MB file is refused with the limit", async () => {
    const dir = statusDir();
    symlinkSync("/dev/zero", join(dir, "status", "stages", "zero.yaml"));
    await expect(readStageStatus(dir, "zero")).rejects.toMatchObject({ code: "STATUS_FILE_INVALID", message: "status/stages/zero.yaml: file is a symlink to /dev/zero, outside status/; gaffer follows symlinks only within status/: copy the file in instead" });
    writeFileSync(join(dir, "status", "stages", "big.yaml"), `# ${"x".repeat(2_000_000)}\n`);
    await expect(readStageStatus(dir, "big")).rejects.toMatchObject({ message: "status/stages/big.yaml: file is larger than 1 MiB, the limit for one file; split it into several files" });
  });

  it("an alias bomb in a status file is STATUS_FILE_INVALID at its first alias, not expanded", async () => {
    const dir = statusDir();
    const lines = ["phase: Running", "a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 0, prev = "a"; i < 9; prev = `b${i}`, i++) lines.push(`b${i}: &b${i} [${Array(10).fill(`*${prev}`).join(", ")}]`);
    writeFileSync(join(dir, "status", "stages", "bomb.yaml"), lines.join("\n") + "\n");
    await expect(readStageStatus(dir, "bomb")).rejects.toMatchObject({ code: "STATUS_FILE_INVALID", message: expect.stringMatching(/^status\/stages\/bomb\.yaml:3:10: cannot expand the aliases of this file \(Excessive alias count/) as string });
  });
});
