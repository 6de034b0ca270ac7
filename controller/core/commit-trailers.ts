/**
 * Trailers written into a commit message by gaffer itself, where the result
 * is exactly what `git commit --trailer` makes; `git commit --trailer` starts
 * a `git interpret-trailers` child process for every commit, this does not.
 * Anything git's trailer rules treat in a special way (comments, a `---`
 * divider, continuation lines, a paragraph mixing trailers and prose, a key
 * already present) is left to git: the answer is then null.
 */

/** One `Key: value` line, as git writes and reads it with the default `:` separator. */
const TRAILER_LINE = /^[A-Za-z0-9][A-Za-z0-9-]*: \S/;
/** A line git may read as a trailer (`Key:v`, `Key : v`) or as one it generated itself. */
const TRAILER_LIKE = /^([A-Za-z0-9-]+[ \t]*:|\(cherry picked from commit )/;

/** git's `whitespace` cleanup of a message given with -F: right-trimmed lines, no leading, trailing or repeated blank lines. */
export function cleanMessage(message: string): string[] {
  const lines: string[] = [];
  for (const line of message.split("\n").map((l) => l.trimEnd())) {
    if (line === "" && (lines.length === 0 || lines.at(-1) === "")) continue;
    lines.push(line);
  }
  while (lines.at(-1) === "") lines.pop();
  return lines;
}

/** The last paragraph of `lines`, unless it is the first one (the title is never a trailer block). */
function lastBody(lines: readonly string[]): readonly string[] {
  const start = lines.lastIndexOf("") + 1;
  return start === 0 ? [] : lines.slice(start);
}

/**
 * `message` with `trailers` appended as `git commit --trailer K: V ...` would
 * (default trailer settings), or null when git's own rules must decide.
 */
export function appendTrailers(message: string, trailers: readonly (readonly [string, string])[]): string | null {
  const lines = cleanMessage(message);
  if (lines.length === 0 || lines.some((l) => l.startsWith("#") || l.startsWith("---"))) return null;
  if (trailers.some(([key, value]) => !TRAILER_LINE.test(`${key}: ${value}`) || value.includes("\n"))) return null;
  const block = lastBody(lines);
  const added = trailers.map(([key, value]) => `${key}: ${value}`);
  if (!block.some((l) => TRAILER_LIKE.test(l))) return [...lines, "", ...added].join("\n") + "\n";
  if (!block.every((l) => TRAILER_LINE.test(l))) return null;
  const keys = new Set(block.map((l) => l.slice(0, l.indexOf(":")).toLowerCase()));
  if (trailers.some(([key]) => keys.has(key.toLowerCase()))) return null;
  return [...lines, ...added].join("\n") + "\n";
}
