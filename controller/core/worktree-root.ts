/**
 * Where task worktrees may live (`Project.spec.worktreeRoot`). Pure: judged
 * on the text, relative to the control dir, before anything is created.
 */
import { isAbsolute, normalize } from "node:path";

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Top-level entries of the control dir that belong to people or to gaffer's records. */
const RESERVED = new Set(["manifests", "status", "memory", ".git"]);

/**
 * Why `root` cannot hold worktrees, or null when it can. The rule: no control
 * characters; an absolute root is not `/`; a relative one (resolved against
 * the control dir) stays within the control dir's parent (one `..` at most,
 * so sibling directories work), is not the control dir itself or the target
 * repo's main checkout, and is not under `manifests/`, `status/`, `memory/`
 * or `.git/`. tmux format characters (`#`, `;`) are harmless: gaffer never
 * hands a path to tmux's parser.
 */
export function checkWorktreeRoot(root: string, repo = "."): string | null {
  const bad = CONTROL.exec(root);
  if (bad !== null) return `holds control character 0x${bad[0].charCodeAt(0).toString(16).padStart(2, "0")}; use a plain directory path`;
  const path = normalize(root).replace(/\/+$/, "") || "/";
  if (isAbsolute(path)) return path === "/" ? "is the filesystem root; name a directory for worktrees (e.g. `.gaffer/worktrees`)" : null;
  const segments = path.split("/");
  if (segments[0] === ".." && segments[1] === "..") return "leaves the control dir's parent directory; use a path below it (e.g. `../worktrees`) or an absolute path";
  if (path === "." || path === "..") return `is ${path === "." ? "the control dir itself" : "the control dir's parent itself"}; name a directory below it (e.g. \`.gaffer/worktrees\`)`;
  if (path === normalize(repo).replace(/\/+$/, "")) return "is the target repo's main checkout; name a directory for worktrees (e.g. `.gaffer/worktrees`)";
  if (RESERVED.has(segments[0]!)) return `is under ${segments[0]}/, which holds the control repo's own records; use e.g. \`.gaffer/worktrees\``;
  return null;
}
