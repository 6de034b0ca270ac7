/**
 * Where task worktrees may live (`Project.spec.worktreeRoot`). Pure: judged
 * on the text, relative to the control dir, before anything is created.
 */
import { basename, dirname, isAbsolute, join, normalize, relative, resolve } from "node:path";

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Top-level entries of the control dir that belong to people or to gaffer's records. */
const RESERVED = new Set(["manifests", "status", "memory", ".git"]);

/** How many leading `..` segments a normalized relative path has. */
function ups(path: string): number {
  const segments = path.split("/");
  let n = 0;
  while (segments[n] === "..") n++;
  return n;
}

/** Whether `inner` is `outer` or below it (both absolute, normalized). */
function isWithin(inner: string, outer: string): boolean {
  const rel = relative(outer, inner);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/**
 * The worktree root when `spec.worktreeRoot` is not set, relative to the
 * control dir: a folder `<target>.gaffer-worktrees` beside the outermost of
 * the target repo and the control dir, so task worktrees are never inside
 * the target repo (its test runner and `git status` never see them) nor
 * inside the control repo (absolute when `repo` is). `controlDir` is resolved against the working
 * directory when relative.
 */
export function defaultWorktreeRoot(controlDir: string, repo: string): string {
  const control = resolve(controlDir);
  const target = resolve(control, repo);
  const outer = isWithin(target, control) ? control : target;
  const root = join(dirname(outer), `${basename(target)}.gaffer-worktrees`);
  // An absolute repo gets an absolute root: its parent may be anywhere.
  return isAbsolute(repo) ? root : relative(control, root);
}

/**
 * Why `root` cannot hold worktrees, or null when it can. The rule: no control
 * characters; an absolute root is not `/`; a relative one (resolved against
 * the control dir) stays within the control dir's parent, or within the
 * target repo's parent when that is higher (a control dir inside the target
 * repo: the default worktree root is beside the target), is not the control
 * dir itself, one of its ancestors or the target repo's main checkout, and is
 * not under `manifests/`, `status/`, `memory/` or `.git/`. tmux format
 * characters (`#`, `;`) are harmless: gaffer never hands a path to tmux's parser.
 */
export function checkWorktreeRoot(root: string, repo = "."): string | null {
  const bad = CONTROL.exec(root);
  if (bad !== null) return `holds control character 0x${bad[0].charCodeAt(0).toString(16).padStart(2, "0")}; use a plain directory path`;
  const path = normalize(root).replace(/\/+$/, "") || "/";
  if (isAbsolute(path)) return path === "/" ? "is the filesystem root; name a directory for worktrees (e.g. `../worktrees`, or leave worktreeRoot out for the default beside the target repo)" : null;
  const segments = path.split("/");
  const allowedUps = Math.max(1, ups(normalize(join(repo, ".."))));
  if (ups(path) > allowedUps) return "leaves the control dir's parent directory (and the target repo's); use a path below it (e.g. `../worktrees`) or an absolute path";
  if (path === "." || path === "..") return `is ${path === "." ? "the control dir itself" : "the control dir's parent itself"}; name a directory below it (e.g. \`../worktrees\`, or leave worktreeRoot out for the default beside the target repo)`;
  if (path === normalize(repo).replace(/\/+$/, "")) return "is the target repo's main checkout; name a directory for worktrees (e.g. `../worktrees`, or leave worktreeRoot out for the default beside the target repo)";
  if (ups(path) === segments.length) return "is an ancestor of the control dir; name a directory below it (e.g. `../worktrees`)";
  if (RESERVED.has(segments[0]!)) return `is under ${segments[0]}/, which holds the control repo's own records; use e.g. \`../worktrees\`, or leave worktreeRoot out for the default beside the target repo`;
  return null;
}
