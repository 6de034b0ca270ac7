/**
 * Parsers for git's machine-readable output (`-z` / `--porcelain`): pure
 * text -> data, so the adapter stays a thin argv wrapper.
 */
import type { GitBranch, GitFileChange, GitStatus, GitStatusEntry, GitWorktreeEntry } from "../ports.js";

/** `git worktree list --porcelain` (newline-separated records, blank line between). */
export function parseWorktreeList(text: string): GitWorktreeEntry[] {
  const entries: GitWorktreeEntry[] = [];
  for (const block of text.split(/\n\n+/)) {
    const lines = block.split("\n").filter((l) => l.length > 0);
    const path = lines.find((l) => l.startsWith("worktree "))?.slice("worktree ".length);
    if (path === undefined) continue;
    const head = lines.find((l) => l.startsWith("HEAD "))?.slice(5) ?? null;
    const ref = lines.find((l) => l.startsWith("branch "))?.slice(7) ?? null;
    entries.push({
      path,
      head,
      branch: ref === null ? null : ref.replace(/^refs\/heads\//, ""),
      bare: lines.includes("bare"),
      prunable: lines.some((l) => l === "prunable" || l.startsWith("prunable ")),
    });
  }
  return entries;
}

/** `git status --porcelain=v2 -z --branch --untracked-files=all`. */
export function parseStatusV2(text: string): GitStatus {
  const tokens = text.split("\0");
  let branch: string | null = null;
  let head: string | null = null;
  const entries: GitStatusEntry[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.startsWith("# branch.oid ")) {
      const oid = token.slice("# branch.oid ".length);
      head = oid === "(initial)" ? null : oid;
    } else if (token.startsWith("# branch.head ")) {
      const name = token.slice("# branch.head ".length);
      branch = name === "(detached)" ? null : name;
    } else if (token.startsWith("1 ")) {
      entries.push({ code: token.slice(2, 4), path: fieldsAfter(token, 8) });
    } else if (token.startsWith("2 ")) {
      entries.push({ code: token.slice(2, 4), path: fieldsAfter(token, 9) });
      i++; // NOTE: a rename's original path follows as its own NUL-terminated token.
    } else if (token.startsWith("u ")) {
      entries.push({ code: token.slice(2, 4), path: fieldsAfter(token, 10) });
    } else if (token.startsWith("? ")) {
      entries.push({ code: "??", path: token.slice(2) });
    }
  }
  return { branch, head, entries };
}

/** The rest of a space-separated record after `count` fields (paths may contain spaces). */
function fieldsAfter(record: string, count: number): string {
  let index = 0;
  for (let n = 0; n < count; n++) index = record.indexOf(" ", index) + 1;
  return record.slice(index);
}

/**
 * `git diff-tree -r -z --no-renames --root --raw --numstat COMMIT`: the commit
 * id, then the records `parseRawNumstat` reads.
 */
export function parseDiffTree(text: string): { sha: string; files: GitFileChange[] } {
  const tokens = text.split("\0").filter((t) => t.length > 0);
  const sha = (tokens.shift() ?? "").trim();
  return { sha, files: parseRawNumstat(tokens) };
}

/** `--raw --numstat -z` records: raw ones (`:modes shas STATUS\0path\0`), then numstat ones (`ins\tdel\tpath\0`). */
export function parseRawNumstat(tokens: readonly string[]): GitFileChange[] {
  const changes = new Map<string, GitFileChange["change"]>();
  const lines = new Map<string, [number, number]>();
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.startsWith(":")) {
      const status = token.trim().split(" ").at(-1) ?? "M";
      const path = tokens[++i] ?? "";
      changes.set(path, status.startsWith("A") ? "added" : status.startsWith("D") ? "deleted" : "modified");
      continue;
    }
    const numstat = /^(\d+|-)\t(\d+|-)\t([\s\S]*)$/.exec(token);
    if (numstat !== null) lines.set(numstat[3]!, [toCount(numstat[1]!), toCount(numstat[2]!)]);
  }
  return [...changes].map(([path, change]) => {
    const [insertions, deletions] = lines.get(path) ?? [0, 0];
    return { path, change, insertions, deletions };
  });
}

function toCount(value: string): number {
  return value === "-" ? 0 : Number(value);
}

/** NUL-separated path list (`--name-only -z`). */
export function parsePathList(text: string): string[] {
  return text.split("\0").filter((p) => p.length > 0);
}

/** The full sha from `git -c core.abbrev=40 commit` output (`[branch sha] subject`), or null. */
export function parseCommitSha(stdout: string): string | null {
  return /^\[[^\]]*?([0-9a-f]{40})\]/m.exec(stdout)?.[1] ?? null;
}

/** `git for-each-ref --format=%(refname:short)%00%(objectname)%00%(worktreepath)` lines. */
export function parseRefList(text: string): Map<string, GitBranch> {
  const branches = new Map<string, GitBranch>();
  for (const line of text.split("\n")) {
    const [name, sha, checkout] = line.split("\0");
    if (name === undefined || sha === undefined) continue;
    branches.set(name, { sha, checkout: checkout === undefined || checkout === "" ? null : checkout });
  }
  return branches;
}

/** One path component that every rule of `git check-ref-format` accepts. */
const PLAIN_COMPONENT = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/**
 * Pure: a branch name `git check-ref-format --branch` certainly accepts:
 * `/`-separated components of letters, digits, `_`, `.` and `-`, none
 * starting with `.` or `-`, ending in `.` or `.lock`, no `..`, not `HEAD`.
 * A strict subset of git's rules: false means "ask git", not "invalid".
 */
export function isPlainBranchName(name: string): boolean {
  if (name === "HEAD" || name.includes("..")) return false;
  return name.split("/").every((c) => PLAIN_COMPONENT.test(c) && !c.endsWith(".") && !c.endsWith(".lock"));
}
