/**
 * `index.lock`: the controller's background reads never hold it (a person's
 * `gaffer approve` failed with "index.lock: File exists" while the controller
 * ran `git status` on the manifests), and approve waits out a short lock held
 * by someone else instead of failing.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { expect, it } from "vitest";
import { GitCli } from "../../controller/adapters/git.js";
import { ManifestTracker } from "../../controller/reconciler/manifest-tracker.js";
import { openLedger } from "../../state/ledger.js";
import { runGaffer } from "../helpers/cli.js";
import { git } from "../helpers/git-repo.js";
import { waitFor } from "../helpers/temp.js";
import { governanceRepo, requestFor } from "../helpers/governance-fixtures.js";

const REQ = requestFor("build", "d");

/**
 * Makes the index racily clean, as it is right after a commit on a fast machine: its mtime no newer than
 * the file's (under load the commit may land a second later, and git then trusts the index as it is).
 */
function makeRacy(dir: string, file: string): void {
  const mtime = statSync(join(dir, file)).mtime;
  utimesSync(join(dir, ".git/index"), mtime, mtime);
}

/** The index's inode and mtime: `git status` that refreshes the index replaces the file (a new inode), under index.lock. */
function indexIdentity(dir: string): string {
  const stat = statSync(join(dir, ".git/index"));
  return `${stat.ino}-${stat.mtimeMs}`;
}

it("the controller's reads never rewrite the index (so never hold index.lock): manifests and worktree status", async () => {
  const dir = await governanceRepo({ request: REQ });
  mkdirSync(join(dir, "manifests"), { recursive: true });
  const db = await openLedger(join(dir, ".gaffer/ledger.sqlite"));
  try {
    for (let i = 0; i < 3; i++) {
      // Racily clean (see makeRacy), a plain `git status` rewrites the index.
      writeFileSync(join(dir, "manifests", "notes.txt"), `${i}\n`);
      git(dir, "add", "manifests/notes.txt");
      git(dir, "commit", "-q", "-m", `chore: note ${i}`);
      makeRacy(dir, "manifests/notes.txt");
      const before = indexIdentity(dir);
      await new ManifestTracker(dir, db, "controller:test").refresh();
      await new GitCli().status(dir);
      expect(indexIdentity(dir)).toBe(before);
    }
  } finally {
    await db.destroy();
  }
  // The same reads without GIT_OPTIONAL_LOCKS=0 do rewrite it: the check above can fail.
  writeFileSync(join(dir, "manifests", "notes.txt"), "last\n");
  git(dir, "add", "manifests/notes.txt");
  git(dir, "commit", "-q", "-m", "chore: last note");
  makeRacy(dir, "manifests/notes.txt");
  const before = indexIdentity(dir);
  await execa("git", ["status", "--porcelain", "--", "manifests"], { cwd: dir });
  expect(indexIdentity(dir)).not.toBe(before);
});

it("approve waits for a lock another git process releases, and fails with the file restored when it stays", async () => {
  const dir = await governanceRepo({ request: REQ });
  const lock = join(dir, ".git/index.lock");
  const file = join(dir, "status/stages/build.yaml");
  const before = readFileSync(file, "utf8");

  writeFileSync(lock, "");
  const stuck = await runGaffer(["approve", "build", "--dir", dir]);
  expect(stuck.exitCode).toBe(1);
  expect(stuck.stderr).toMatch(/^error: GIT_FAILED: git add -- status\/stages\/build\.yaml failed in .* \(exit 128\): fatal: Unable to create '.*index\.lock': File exists\./);
  expect(readFileSync(file, "utf8")).toBe(before);

  const head = git(dir, "rev-parse", "HEAD");
  const approving = runGaffer(["approve", "build", "--dir", dir]);
  // Approve wrote its entry and found the lock (its first attempt): only then does the lock go away.
  await waitFor(() => (readFileSync(file, "utf8") !== before ? true : undefined));
  rmSync(lock);
  const approved = await approving;
  expect(approved.stderr).toBe("");
  expect(approved.exitCode).toBe(0);
  expect(existsSync(lock)).toBe(false);
  expect(git(dir, "rev-list", "--count", `${head}..HEAD`)).toBe("1");
});
