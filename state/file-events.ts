import { watch, type FSWatcher } from "node:fs";

/** A running watch of one directory's entries. */
export interface FileEvents {
  close(): void;
}

/**
 * Calls `onEvent(name)` when an entry of `dir` is written, created, renamed
 * or deleted (inotify on Linux: no wake-up while nothing happens); `name` is
 * null when the system could not say which entry. Returns null when the
 * directory cannot be watched (gone, or the system's watch limit reached):
 * the caller then keeps to its polling. A watch that fails later (the
 * directory deleted) reports one last event and closes itself.
 */
export function watchDirectoryEntries(dir: string, onEvent: (name: string | null) => void): FileEvents | null {
  let watcher: FSWatcher;
  try {
    watcher = watch(dir, { persistent: false }, (_event, name) => onEvent(name === null ? null : String(name)));
  } catch {
    return null;
  }
  let closed = false;
  watcher.on("error", () => {
    if (closed) return;
    closed = true;
    watcher.close();
    onEvent(null);
  });
  return {
    close: () => {
      closed = true;
      watcher.close();
    },
  };
}
