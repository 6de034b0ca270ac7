import { execFileSync } from "node:child_process";
import { onTestFinished } from "vitest";

/**
 * Real filesystem faults for tests (needs root, as the suite runs): a small
 * tmpfs to fill, and read-only bind mounts. Each is unmounted when the test
 * finishes (lazily, so a file still open elsewhere cannot keep it mounted).
 */
function unmountLater(path: string): void {
  onTestFinished(() => {
    execFileSync("umount", ["-l", path], { stdio: "ignore" });
  });
}

/** Mounts a tmpfs of `size` (e.g. `2m`) on the existing directory `dir`. */
export function mountTmpfs(dir: string, size: string): void {
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir]);
  unmountLater(dir);
}

/** Makes `path` (a file or a directory) read-only in place: a read-only bind mount of itself (EROFS even for root). */
export function mountReadOnly(path: string): void {
  execFileSync("mount", ["--bind", path, path]);
  unmountLater(path);
  execFileSync("mount", ["-o", "remount,ro,bind", path]);
}

/** Fills the filesystem holding `file` until it is full (ENOSPC); returns the filler's path. */
export function fillDisk(file: string): string {
  try {
    execFileSync("dd", ["if=/dev/zero", `of=${file}`, "bs=4k"], { stdio: "ignore" });
  } catch {
    // dd exits 1 on ENOSPC: the disk is full, as wanted
  }
  return file;
}
