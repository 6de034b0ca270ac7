/**
 * The rules of `git check-ref-format --branch`, as a pure function so
 * `validate` can judge a branch pattern without running git. (The git adapter
 * still asks real git before creating a branch.)
 */
export function checkBranchName(name: string): string | null {
  if (name.length === 0) return "is empty";
  if (name === "@") return 'is "@"';
  if (name.startsWith("-")) return 'starts with "-"';
  if (name.startsWith("/") || name.endsWith("/")) return 'starts or ends with "/"';
  if (name.includes("//")) return 'contains "//"';
  if (name.includes("..")) return 'contains ".."';
  if (name.includes("@{")) return 'contains "@{"';
  if (name.endsWith(".")) return 'ends with "."';
  // eslint-disable-next-line no-control-regex
  const bad = /[\x00-\x20\x7f~^:?*[\\]/.exec(name);
  if (bad !== null) return `contains ${JSON.stringify(bad[0])}`;
  for (const component of name.split("/")) {
    if (component.startsWith(".")) return `has a component starting with "." (${component})`;
    if (component.endsWith(".lock")) return `has a component ending with ".lock" (${component})`;
  }
  return null;
}

export const BRANCH_PLACEHOLDERS = ["stage", "task"] as const;

/** Fills `{stage}` and `{task}` in a branch pattern. */
export function renderBranch(pattern: string, values: { readonly stage: string; readonly task: string }): string {
  return pattern.replace(/\{stage\}/g, values.stage).replace(/\{task\}/g, values.task);
}

/** Why a branch pattern cannot produce valid refs, or null. */
export function checkBranchPattern(pattern: string): string | null {
  const unknown = /\{([^}]*)\}/g;
  for (const match of pattern.matchAll(unknown)) {
    if (!(BRANCH_PLACEHOLDERS as readonly string[]).includes(match[1]!)) {
      return `uses unknown placeholder {${match[1]}} (allowed: {stage}, {task})`;
    }
  }
  if (!pattern.includes("{task}")) return "must contain {task}, or every task would share one branch";
  const sample = renderBranch(pattern, { stage: "build", task: "add-login" });
  const problem = checkBranchName(sample);
  return problem === null ? null : `cannot produce a valid git branch: ${JSON.stringify(sample)} ${problem}`;
}
