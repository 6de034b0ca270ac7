/**
 * Reads of a repository's git dir that need no `git` process: where a
 * checkout's git dir is, a loose ref, and which checkouts have a branch.
 * Each answers null (or throws) when the layout is not the plain one, and
 * the adapter then asks git.
 */
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { dirname, isAbsolute, join, resolve } from "node:path";

/** A full object id. */
export const SHA = /^[0-9a-f]{40}$/;

/** The git dir of a checkout: `.git` itself, or where a worktree's `.git` file points (`gitdir: PATH`); null when neither. */
export async function gitDirFromFiles(cwd: string): Promise<string | null> {
  const dotGit = join(cwd, ".git");
  const text = await readFile(dotGit, "utf8").catch(() => null);
  if (text === null) return existsSync(dotGit) ? dotGit : null;
  const pointer = /^gitdir: (.+)$/m.exec(text)?.[1]?.trim();
  if (pointer === undefined) return null;
  return isAbsolute(pointer) ? pointer : resolve(cwd, pointer);
}

/** The common dir of a git dir (a linked worktree's `commondir`, else the git dir itself). */
export async function commonDirOf(dir: string): Promise<string> {
  return readFile(join(dir, "commondir"), "utf8").then((c) => resolve(dir, c.trim()), () => dir);
}

/**
 * `HEAD` or `refs/heads/X` read straight from the git dir when the ref is a
 * loose file (git keeps an updated ref loose until `pack-refs`), else null and
 * the caller asks git.
 */
export async function readLooseRef(dir: string, rev: string): Promise<string | null> {
  if (rev !== "HEAD" && !rev.startsWith("refs/heads/")) return null;
  try {
    let ref = rev;
    if (rev === "HEAD") {
      const head = (await readFile(join(dir, "HEAD"), "utf8")).trim();
      if (SHA.test(head)) return head;
      if (!head.startsWith("ref: refs/heads/")) return null;
      ref = head.slice(5);
    }
    const sha = (await readFile(join(await commonDirOf(dir), ref), "utf8")).trim();
    return SHA.test(sha) ? sha : null;
  } catch {
    return null;
  }
}

/**
 * Checkouts of `branch`, read from the git dirs (what `git worktree list`
 * reads): the main worktree when `repo` is a work tree, and every linked
 * worktree whose HEAD names the branch and whose directory still exists.
 */
export async function checkoutsFromGitDir(repo: string, main: string, branch: string): Promise<string[]> {
  const want = `ref: refs/heads/${branch}`;
  const paths: string[] = [];
  const common = await commonDirOf(main);
  if (existsSync(join(repo, ".git")) && (await readFile(join(main, "HEAD"), "utf8")).trim() === want) paths.push(repo);
  const linked = await readdir(join(common, "worktrees")).catch(() => [] as string[]);
  for (const id of linked) {
    const dir = join(common, "worktrees", id);
    if ((await readFile(join(dir, "HEAD"), "utf8").catch(() => "")).trim() !== want) continue;
    const path = dirname((await readFile(join(dir, "gitdir"), "utf8")).trim());
    if (existsSync(path) && path !== repo) paths.push(path);
  }
  return paths;
}
