import { lstatSync, mkdirSync, realpathSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { PathEscapeError, WorktreeConflictError } from "../errors.js";

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel.length > 0 && !rel.startsWith("..") && !isAbsolute(rel);
}

/**
 * The worktree path of task `name` under `root`, refusing anything that could
 * land outside it: separators, `..`, absolute paths, NUL, and a symlink at the
 * path (one escaping the root is PATH_ESCAPE; one inside it is a foreign
 * entry, WORKTREE_CONFLICT). Creates `root` if missing and returns a path
 * under its real (symlink-free) location.
 */
export function confineWorktreePath(root: string, name: string): string {
  const plain = name.length > 0 && name !== "." && name !== ".." && !/[/\\\0]/.test(name) && !isAbsolute(name);
  if (!plain || !isInside(resolve(root), resolve(root, name))) {
    throw new PathEscapeError(`task name ${JSON.stringify(name)} would place its worktree outside ${root}; a task name must be one plain path component (letters, digits, "-")`, { details: { root, name } });
  }
  mkdirSync(root, { recursive: true });
  const realRoot = realpathSync(root);
  const path = join(realRoot, name);
  let isLink = false;
  try {
    isLink = lstatSync(path).isSymbolicLink();
  } catch {
    return path; // nothing there yet
  }
  if (!isLink) return path;
  let target: string;
  try {
    target = realpathSync(path);
  } catch {
    target = "(dangling link)";
  }
  if (!isInside(realRoot, target)) {
    throw new PathEscapeError(`${path} is a symlink to ${target}, outside ${realRoot}; remove the link, gaffer never follows links out of worktreeRoot`, { details: { root: realRoot, name, target } });
  }
  throw new WorktreeConflictError(`${path} is a symlink (to ${target}), not a worktree; remove the link and run again`, { details: { path, target } });
}

/** Real path of `path` when it exists, else the path itself (for comparing git's paths with ours). */
export function canonicalPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}
