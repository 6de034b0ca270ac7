import { readFileSync } from "node:fs";
import { join } from "node:path";
import { LOCK_FILE } from "../reconciler/controller-lock.js";

/** Whether a controller runs for a control dir, as far as this machine can tell. */
export interface ControllerLiveness {
  readonly running: boolean;
  readonly pid: number | null;
}

/**
 * The one place `status` asks whether `gaffer up` runs: the lock's pid is
 * alive (signal 0; EPERM still means alive). A lock left by a killed
 * controller reads as not running. When the lock becomes a ledger lease,
 * only this function changes.
 */
export function readControllerLiveness(dir: string): ControllerLiveness {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dir, LOCK_FILE), "utf8").trim());
  } catch {
    return { running: false, pid: null };
  }
  if (!Number.isInteger(pid) || pid <= 0) return { running: false, pid: null };
  try {
    process.kill(pid, 0);
    return { running: true, pid };
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM" ? { running: true, pid } : { running: false, pid: null };
  }
}
