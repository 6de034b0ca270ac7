/**
 * Pure guardrail checks for commits and branches (skill 17): each returns the
 * problem as text, or null, so the workspace layer can refuse with
 * `POLICY_<RULE>` and the fix.
 */
import picomatch from "picomatch";
import { DEFAULT_COMMIT_FORMAT, type ProjectConfig } from "./project-config.js";

/** Subjects tried, in order, to show a user an example their commit format accepts. */
const EXAMPLE_SUBJECTS = [
  "feat(login): add the login form",
  "feat: add the login form",
  "fix: handle an empty password",
  "LOGIN-12: add the login form",
  "[login] add the login form",
  "Add the login form",
];

/** A subject the format accepts, to put in a refusal; null when none of ours fits. */
export function exampleSubject(format: string): string | null {
  const regex = new RegExp(format);
  return EXAMPLE_SUBJECTS.find((s) => regex.test(s)) ?? null;
}

/** The first line of a message. */
export function commitSubject(message: string): string {
  return message.split("\n", 1)[0]!.trim();
}

/** Why the message's subject breaks `policy.commitFormat`, with the rule and an example; null when it is fine. */
export function checkCommitMessage(format: string, message: string): string | null {
  const subject = commitSubject(message);
  if (new RegExp(format).test(subject)) return null;
  const rule = format === DEFAULT_COMMIT_FORMAT ? `conventional commits (/${format}/)` : `/${format}/`;
  const example = exampleSubject(format);
  const shown = subject.length === 0 ? "an empty subject" : `subject ${JSON.stringify(subject)}`;
  return `${shown} does not match policy.commitFormat ${rule}; write it like ${example === null ? "the pattern says" : JSON.stringify(example)}`;
}

/** Whether nothing may be committed on, force-moved or deleted from this branch. */
export function isProtectedBranch(config: ProjectConfig, branch: string): boolean {
  return config.policy.protectedBranches.includes(branch);
}

/**
 * The picomatch globs a denylist entry stands for, with gitignore-like rules:
 * a leading `/` anchors it at the repo root; a pattern with no other `/`
 * matches at any depth; a trailing `/` (or any match of a directory) covers
 * everything under it. Braces, classes and `**` are picomatch's own.
 */
export function denylistGlobs(pattern: string): string[] {
  const anchored = pattern.startsWith("/");
  const body = pattern.replace(/^\/+/, "").replace(/\/+$/, "");
  const rooted = anchored || body.includes("/") ? body : `**/${body}`;
  return [rooted, `${rooted}/**`];
}

/** A matcher for one denylist entry; dotfiles match like any other name. */
export function secretMatcher(pattern: string): (path: string) => boolean {
  return picomatch(denylistGlobs(pattern), { dot: true });
}

/** The denylist pattern a repo-relative path matches, or null. */
export function matchSecret(path: string, denylist: readonly string[]): string | null {
  const relative = path.replace(/^\.\//, "");
  return denylist.find((pattern) => secretMatcher(pattern)(relative)) ?? null;
}
