/**
 * Conflicts as data, and the prompt a resolver session gets: pure functions
 * over file text, so the prompt is testable without git.
 */

/** One `<<<<<<< ... >>>>>>>` region of a conflicted file. */
export interface ConflictHunk {
  readonly file: string;
  /** 1-based line of the `<<<<<<<` marker. */
  readonly line: number;
  /** The task branch's side (between `<<<<<<<` and `=======` / `|||||||`). */
  readonly ours: string;
  /** The integration branch's side (between `=======` and `>>>>>>>`). */
  readonly theirs: string;
}

const MARKER = /^(<{7}|\|{7}|={7}|>{7})(?: |$)/;

/** The conflict regions of one file's text. */
export function extractConflictHunks(file: string, text: string): ConflictHunk[] {
  const hunks: ConflictHunk[] = [];
  const lines = text.split("\n");
  let start = -1;
  let part: "ours" | "base" | "theirs" = "ours";
  let ours: string[] = [];
  let theirs: string[] = [];
  lines.forEach((line, i) => {
    if (line.startsWith("<<<<<<<")) [start, part, ours, theirs] = [i, "ours", [], []];
    else if (start >= 0 && line.startsWith("|||||||")) part = "base";
    else if (start >= 0 && /^={7}$/.test(line)) part = "theirs";
    else if (start >= 0 && line.startsWith(">>>>>>>")) {
      hunks.push({ file, line: start + 1, ours: ours.join("\n"), theirs: theirs.join("\n") });
      start = -1;
    } else if (start >= 0 && part === "ours") ours.push(line);
    else if (start >= 0 && part === "theirs") theirs.push(line);
  });
  return hunks;
}

/** 1-based line numbers of lines that look like conflict markers. */
export function findConflictMarkers(text: string): number[] {
  return text.split("\n").flatMap((line, i) => (MARKER.test(line) ? [i + 1] : []));
}

export interface ResolvePromptInput {
  readonly task: string;
  readonly branch: string;
  readonly target: string;
  readonly branchHead: string;
  readonly targetHead: string;
  readonly files: readonly string[];
  readonly hunks: readonly ConflictHunk[];
  /** Which resolve round this is (1-based) and how many are allowed. */
  readonly round: number;
  readonly maxRounds: number;
  /** How the queue brings the branch up to date (rebase needs a rebase, not a merge). */
  readonly strategy: "merge" | "squash" | "rebase";
}

function fence(text: string): string {
  const ticks = text.includes("```") ? "````" : "```";
  return `${ticks}\n${text}\n${ticks}`;
}

/** The resolve prompt: what conflicted, both sides, the conflicting hunks, and what "done" means. */
export function buildResolvePrompt(input: ResolvePromptInput): string {
  const lines = [
    `Resolve the merge conflict of task ${input.task} (round ${input.round} of ${input.maxRounds}).`,
    "",
    `Your branch: ${input.branch} at ${input.branchHead}`,
    `Integration branch: ${input.target} at ${input.targetHead}`,
    "",
    `Merging ${input.target} into ${input.branch} conflicts in ${input.files.length} file${input.files.length === 1 ? "" : "s"}:`,
    ...input.files.map((f) => `- ${f}`),
    "",
  ];
  for (const hunk of input.hunks) {
    lines.push(`${hunk.file}:${hunk.line}`, `ours (${input.branch}):`, fence(hunk.ours), `theirs (${input.target}):`, fence(hunk.theirs), "");
  }
  lines.push(
    "Steps:",
    input.strategy === "rebase"
      ? `1. In this worktree run \`git rebase ${input.targetHead}\` and edit each conflicted file so both changes survive where they can.`
      : `1. In this worktree run \`git merge ${input.targetHead}\` and edit each conflicted file so both changes survive where they can.`,
    input.strategy === "rebase"
      ? "2. Remove every conflict marker (<<<<<<<, =======, >>>>>>>), `git add` the files and `git rebase --continue` until the rebase ends; run the tests."
      : "2. Remove every conflict marker (<<<<<<<, =======, >>>>>>>), run the tests, then commit the merge.",
    "3. Report done. gaffer then checks for markers, runs the gate, and puts the branch back in the merge queue.",
  );
  return lines.join("\n");
}
