import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { ControllerLockedError } from "../errors.js";

export const LOCK_FILE = ".gaffer/controller.lock";

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * One controller per control dir: an exclusive-create pid file. A lock left
 * by a dead process (SIGKILL) is taken over; a live one is CONTROLLER_LOCKED.
 */
export function acquireControllerLock(file: string): () => void {
  mkdirSync(dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, "wx");
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(file, "utf8").trim() === String(process.pid)) rmSync(file);
        } catch {
          // already gone
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const pid = Number(readFileSync(file, "utf8").trim());
      if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
        throw new ControllerLockedError(`another controller (pid ${pid}) runs for this control dir; stop it first, or use \`gaffer status\` to watch it`, { details: { pid } });
      }
      rmSync(file, { force: true });
    }
  }
  throw new ControllerLockedError(`could not take ${file}; remove it if no controller runs`);
}
