/**
 * POLICY_PROTECTED_PATH: when the control dir lives inside the target repo
 * (the "control dir is the target repo" layout), a task's commits and merges
 * must not change the control repo's `manifests/`, `status/` or `memory/`:
 * those are what people review and approve, never an agent's work product.
 */
import { isAbsolute, relative } from "node:path";
import type { GitObjectReader } from "../ports.js";
import { policyRefusal, targetRepoPath, type WorkspaceContext } from "./context.js";
import { canonicalPath } from "./worktree-path.js";

/** The control dir's folders no task may change. */
export const PROTECTED_DIRS = ["manifests", "status", "memory"] as const;

/** Repo-relative prefixes of the protected folders, or [] when the control dir is outside the target repo. */
export function protectedPrefixes(ctx: Pick<WorkspaceContext, "controlDir" | "config">): string[] {
  const rel = relative(canonicalPath(targetRepoPath(ctx as WorkspaceContext)), canonicalPath(ctx.controlDir));
  if (rel.startsWith("..") || isAbsolute(rel)) return [];
  const base = rel === "" ? "" : `${rel.split("\\").join("/")}/`;
  return PROTECTED_DIRS.map((d) => `${base}${d}/`);
}

/** Pure: the paths among `paths` that lie in a protected folder. */
export function protectedHits(prefixes: readonly string[], paths: readonly string[]): string[] {
  return paths.filter((p) => prefixes.some((prefix) => p.startsWith(prefix)));
}

/**
 * Refuses (ledgered `PolicyRefused`) when `paths` touch the control repo's
 * protected folders. `paths` may be a function of the prefixes, asked only
 * when there are any (e.g. a diff limited to those folders).
 */
export async function checkProtectedPaths(ctx: WorkspaceContext, input: { readonly task: string; readonly what: string; readonly paths: readonly string[] | ((prefixes: readonly string[]) => Promise<readonly string[]>) }): Promise<void> {
  const prefixes = protectedPrefixes(ctx);
  if (prefixes.length === 0) return;
  const hits = protectedHits(prefixes, typeof input.paths === "function" ? await input.paths(prefixes) : input.paths);
  if (hits.length === 0) return;
  const listed = hits.slice(0, 5).join(", ") + (hits.length > 5 ? ` and ${hits.length - 5} more` : "");
  throw await policyRefusal(ctx, {
    rule: "PROTECTED_PATH",
    subject: `task/${input.task}`,
    message: `${input.what} of task ${input.task} changes the control repo's ${listed}: manifests/, status/ and memory/ change only by a person's commit (approvals with \`gaffer approve\`); drop those changes from the branch`,
    details: { files: hits, protected: prefixes },
  });
}


/**
 * The protected paths that differ between commits `from` and `to`, for
 * `checkProtectedPaths`: when `objects` shows each protected folder's tree
 * the same on both sides (one batch of id lookups), nothing there changed and
 * no diff runs; otherwise a diff limited to those folders lists the paths.
 */
export function changedProtectedPaths(ctx: WorkspaceContext, spec: { readonly cwd: string; readonly from: string; readonly to: string; readonly objects?: GitObjectReader }): (prefixes: readonly string[]) => Promise<readonly string[]> {
  return async (prefixes) => {
    const dirs = prefixes.map((p) => p.replace(/\/$/, ""));
    const ids = spec.objects === undefined ? null : await spec.objects.ids(dirs.flatMap((d) => [`${spec.from}:${d}`, `${spec.to}:${d}`])).catch(() => null);
    if (ids !== null && dirs.every((_, i) => ids[2 * i] === ids[2 * i + 1])) return [];
    return ctx.git.changedPaths(spec.cwd, spec.from, spec.to, prefixes);
  };
}
