/**
 * gaffer writes its commit trailers into the message itself (no `git
 * interpret-trailers` child per commit): for every message where it does so,
 * the commit must be byte-for-byte what `git commit --trailer` makes; for
 * the others it must leave the decision to git (null).
 */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { appendTrailers } from "../../controller/core/commit-trailers.js";
import { gitRepo } from "../helpers/git-repo.js";
import { seededRandom } from "../helpers/seeded-random.js";

const TRAILERS: [string, string][] = [["Gaffer-Task", "login"], ["Gaffer-Session", "sess-1"]];

/** The message of a commit made with `git commit -F - [--trailer ...]`. */
function committed(repo: string, message: string, trailers: readonly [string, string][]): string {
  const args = ["commit", "-q", "--allow-empty", "--no-edit", "-F", "-", ...trailers.flatMap(([k, v]) => ["--trailer", `${k}: ${v}`])];
  execFileSync("git", args, { cwd: repo, input: message, env: { ...process.env, GIT_EDITOR: "true" } });
  return execFileSync("git", ["log", "-1", "--format=%B"], { cwd: repo, encoding: "utf8" });
}

const FIXED = [
  "feat: add the login form",
  "feat: add the login form\n",
  "feat: subject\n\nA body line.\nAnother: with a colon inside.",
  "feat: subject\n\nSigned-off-by: A <a@example.com>",
  "feat: subject\n\nbody\n\nCo-authored-by: B <b@example.com>\nReviewed-by: C <c@example.com>\n",
  "feat: subject\n\nSigned-off-by:A",
  "feat: subject\n\nSee: https://example.com/x\nprose",
  "feat: subject\n\nGaffer-Task: other",
  "feat: subject\n\n(cherry picked from commit 0123456789abcdef0123456789abcdef01234567)",
  "feat: subject\n\n# a comment\n",
  "feat: subject\n---\nnot a trailer: x",
  "  feat: padded   \n\n\n\nbody   \n\n\n",
  "feat: subject\n\nKey : spaced",
  "feat: subject\n\nBREAKING CHANGE: the API moved",
  "feat: subject\n\nRefs: #12\n  continued",
];

const WORDS = ["fix", "the", "login", "Refs:", "Signed-off-by:", "x", "Key: v", "Acked-by: Z <z@example.com>", "", "  ", "https://e.example", "---", "#", "Note:"];

function randomMessage(random: () => number): string {
  const lines = Array.from({ length: 1 + Math.floor(random() * 6) }, () => Array.from({ length: Math.floor(random() * 4) }, () => WORDS[Math.floor(random() * WORDS.length)]!).join(" "));
  return `feat: r\n${random() < 0.7 ? "\n" : ""}${lines.join("\n")}`;
}

describe("commit trailers written by gaffer", () => {
  it("match `git commit --trailer` byte for byte, or leave the message to git", () => {
    const seed = Number(process.env.TRAILER_SEED ?? Date.now() % 100_000);
    console.log(`commit-trailers seed: ${seed} (TRAILER_SEED=${seed} replays it)`);
    const random = seededRandom(seed);
    const repo = gitRepo();
    const messages = [...FIXED, ...Array.from({ length: 12 }, () => randomMessage(random))];
    let written = 0;
    for (const message of messages) {
      const ours = appendTrailers(message, TRAILERS);
      if (ours === null) continue;
      written++;
      expect(committed(repo, ours, []), JSON.stringify(message)).toBe(committed(repo, message, TRAILERS));
    }
    // The usual shapes (a subject, a body, an existing trailer block) are written by gaffer.
    expect(written).toBeGreaterThanOrEqual(5);
    expect(appendTrailers("feat: subject\n\n# a comment", TRAILERS)).toBeNull();
    expect(appendTrailers("feat: subject\n\nGaffer-Task: other", TRAILERS)).toBeNull();
    expect(appendTrailers("feat: subject\n\nSigned-off-by: A <a@example.com>", TRAILERS)).toBe("feat: subject\n\nSigned-off-by: A <a@example.com>\nGaffer-Task: login\nGaffer-Session: sess-1\n");
  });
});
