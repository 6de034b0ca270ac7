/**
 * The fast path of branch-name validation: every name `isPlainBranchName`
 * accepts, real `git check-ref-format --branch` accepts too (random names,
 * seed printed; `GAFFER_BRANCH_SEED=N` replays), and known-bad names never
 * take the fast path.
 */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { isPlainBranchName } from "../../controller/adapters/git-parse.js";
import { seededRandom } from "../helpers/seeded-random.js";

function gitAccepts(name: string): boolean {
  try {
    execFileSync("git", ["check-ref-format", "--branch", name], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const ALPHABET = ["a", "b", "Z", "0", "9", "task", "/x", "_", ".", "-", "/", "@", "{", " ", "~", "^", ":", "?", "*", "[", "\\", "lock", "HEAD", "é"];

describe("plain branch names", () => {
  it("never accepts a name git refuses", () => {
    for (const name of ["-x", "a..b", "a.lock", "a/b.lock", "HEAD", "a/.b", ".a", "a.", "a b", "a~1", "a^", "a:b", "a@{1}", "a//b", "/a", "a/", "a?", "a*", "a[", "a\\b", ""]) {
      expect(isPlainBranchName(name), name).toBe(false);
      expect(gitAccepts(name), name).toBe(false);
    }
    expect(["gaffer/build/task-1", "feature/x_y.z", "v1.2.3", "a-b/c-d"].map(isPlainBranchName)).toEqual([true, true, true, true]);
  });

  it("agrees with git check-ref-format --branch on every random name it accepts", () => {
    const seed = Number(process.env.GAFFER_BRANCH_SEED ?? Date.now() % 2 ** 31);
    console.log(`branch-name seed ${seed} (GAFFER_BRANCH_SEED=${seed} replays it)`);
    const random = seededRandom(seed);
    const names = Array.from({ length: 400 }, () => Array.from({ length: 1 + Math.floor(random() * 6) }, () => ALPHABET[Math.floor(random() * ALPHABET.length)]!).join(""));
    const plain = names.filter(isPlainBranchName);
    // NOTE: git is asked only about the names the fast path accepts: those are the ones that must agree.
    expect(plain.length).toBeGreaterThan(20);
    for (const name of plain) expect(gitAccepts(name), `seed ${seed}: "${name}"`).toBe(true);
  });
});
