/**
 * What Linux's /proc says about a process gaffer did not start itself (a
 * pane's): its argv, its real working directory, and a zombie's exit status.
 */
import { readFileSync, readlinkSync, realpathSync } from "node:fs";

/** A process's argv and cwd, or null when it is gone (or a zombie, whose cmdline is empty). */
export function readProcess(pid: number): { readonly argv: string[]; readonly cwd: string } | null {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    if (raw === "") return null;
    return { argv: raw.replace(/\0$/, "").split("\0"), cwd: readlinkSync(`/proc/${pid}/cwd`) };
  } catch {
    return null;
  }
}

/**
 * How a zombie process ended (the `exit_code` field of /proc/PID/stat, as
 * waitpid reports it), or null when the process is not a zombie or is gone.
 */
export function zombieExit(pid: number): { readonly exitStatus: number | null; readonly signal: number | null } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] !== "Z" || fields.length < 50) return null;
    const code = Number(fields[fields.length - 1]);
    return (code & 0x7f) === 0 ? { exitStatus: (code >> 8) & 0xff, signal: null } : { exitStatus: null, signal: code & 0x7f };
  } catch {
    return null;
  }
}

/** The real directory a path names, or the path itself when it cannot be resolved. */
export function realDir(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

let bootId: string | undefined;

/**
 * `<boot id>:<start time in clock ticks>` of a process: with its pid, what
 * tells it apart from a later process that got the same pid. Null when the
 * process is gone or /proc cannot say.
 */
export function processStart(pid: number): string | null {
  try {
    bootId ??= readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const start = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
    return start === undefined ? null : `${bootId}:${start}`;
  } catch {
    return null;
  }
}

/** Whether a process with this pid exists (EPERM: it exists, owned by someone else). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
