import { constants, type Stats } from "node:fs";
import { lstat, open, realpath } from "node:fs/promises";
import { isAbsolute, relative } from "node:path";

/** The largest manifest or status file gaffer reads (1 MiB): anything bigger is refused, never loaded. */
export const MAX_FILE_BYTES = 1024 * 1024;

/** Why a file was not read: a stable code and a position-free message naming the file. */
export interface ReadProblem {
  /** FILE_TOO_LARGE | FILE_NOT_REGULAR | FILE_OUTSIDE_ROOT | FILE_UNREADABLE */
  readonly code: string;
  readonly message: string;
}

export type BoundedRead = { readonly ok: true; readonly bytes: Buffer } | { readonly ok: false; readonly problem: ReadProblem };

/** Messages start with "file ..." and name no path: callers print them after the file's name. */
export interface BoundedReadOptions {
  /** A symlink is followed only when its target stays inside this directory. */
  readonly root: string;
  /** How `root` is named in messages (e.g. `manifests`). */
  readonly rootLabel: string;
  readonly maxBytes?: number;
}

function kindOf(stats: Stats): string {
  if (stats.isFIFO()) return "a FIFO (named pipe)";
  if (stats.isCharacterDevice()) return "a character device";
  if (stats.isBlockDevice()) return "a block device";
  if (stats.isSocket()) return "a socket";
  if (stats.isDirectory()) return "a directory";
  return "not a regular file";
}

function refuse(code: string, message: string): BoundedRead {
  return { ok: false, problem: { code, message } };
}

function errnoOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

/**
 * Reads a regular file of at most `maxBytes` without ever blocking: the file
 * is opened O_NONBLOCK|O_NOFOLLOW and checked with fstat on the open
 * descriptor (no check-then-open race), so a FIFO, a device (`/dev/zero`), a
 * directory, a symlink out of `root`, or an oversized file is refused with a
 * problem instead of hanging or exhausting memory. Returns null when the file
 * does not exist.
 */
export async function readBoundedFile(path: string, options: BoundedReadOptions): Promise<BoundedRead | null> {
  const maxBytes = options.maxBytes ?? MAX_FILE_BYTES;
  let target = path;
  try {
    if ((await lstat(path)).isSymbolicLink()) {
      target = await realpath(path);
      const inside = relative(await realpath(options.root), target);
      if (inside.startsWith("..") || isAbsolute(inside)) {
        return refuse("FILE_OUTSIDE_ROOT", `file is a symlink to ${target}, outside ${options.rootLabel}/; gaffer follows symlinks only within ${options.rootLabel}/: copy the file in instead`);
      }
    }
  } catch (error) {
    if (errnoOf(error) === "ENOENT" && target === path) return null;
    return refuse("FILE_UNREADABLE", `file cannot be read (${errnoOf(error) ?? String(error)}${target === path ? "" : ", a dangling symlink?"})`);
  }
  return readOpened(target, maxBytes);
}

async function readOpened(target: string, maxBytes: number): Promise<BoundedRead | null> {
  let handle;
  try {
    handle = await open(target, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return null;
    return refuse("FILE_UNREADABLE", `file cannot be opened (${errnoOf(error) ?? String(error)})`);
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) return refuse("FILE_NOT_REGULAR", `file is ${kindOf(stats)}, not a regular file; gaffer reads only regular files: remove it or replace it with a file`);
    if (stats.size > maxBytes) return tooLarge(maxBytes);
    // Read one byte past the limit: a file that grew after fstat is still refused, never read whole.
    let buffer = Buffer.alloc(stats.size + 1);
    let length = 0;
    for (;;) {
      if (length === buffer.length) buffer = Buffer.concat([buffer, Buffer.alloc(maxBytes + 1 - length)]);
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > maxBytes) return tooLarge(maxBytes);
    }
    return { ok: true, bytes: buffer.subarray(0, length) };
  } finally {
    await handle.close();
  }
}

function tooLarge(maxBytes: number): BoundedRead {
  const limit = maxBytes >= 1024 * 1024 ? `${maxBytes / (1024 * 1024)} MiB` : `${maxBytes} bytes`;
  return refuse("FILE_TOO_LARGE", `file is larger than ${limit}, the limit for one file; split it into several files`);
}
