import { watch, type FSWatcher } from "chokidar";
import type { Watcher } from "../ports.js";

export interface DirWatcher {
  close(): Promise<void>;
}

/**
 * Watches directories and calls `onChange` once per burst of changes
 * (debounced). NOTE: chokidar drops a second `change` on one file within
 * ~50 ms with no trailing event, so the callback carries no payload: the
 * caller re-reads the files, and a resync timer covers anything missed.
 */
export function watchDirs(paths: readonly string[], onChange: () => void, options: { readonly debounceMs?: number } = {}): DirWatcher {
  const debounceMs = options.debounceMs ?? 25;
  let timer: NodeJS.Timeout | undefined;
  const watcher: FSWatcher = watch([...paths], { ignoreInitial: true, ignored: (path) => /(^|[/\\])\.[^/\\]*\.tmp$|~$/.test(path), awaitWriteFinish: false });
  const fire = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      onChange();
    }, debounceMs);
  };
  watcher.on("add", fire).on("change", fire).on("unlink", fire).on("addDir", fire).on("unlinkDir", fire);
  return {
    close: async () => {
      if (timer !== undefined) clearTimeout(timer);
      await watcher.close();
    },
  };
}

/** The Watcher port over chokidar (`watchDirs`, debounced). */
export function chokidarWatcher(options: { readonly debounceMs?: number } = {}): Watcher {
  return { watch: (paths, onChange) => watchDirs(paths, onChange, options) };
}
