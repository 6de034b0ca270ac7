/**
 * README's "Five minutes with your own repo", command by command, as a
 * newcomer types it: a fresh repo of their own, `gaffer init`, one edit (a
 * second approver), validate, plan, commit, `gaffer up`, the second approver's
 * `gaffer approve build`, and a merged task. The one deviation: the test gives
 * the controller its own tmux socket, so it never touches a user's server.
 */
import Database from "better-sqlite3";
import { execa } from "execa";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, onTestFinished, test } from "vitest";
import { GAFFER_BIN, runGaffer } from "../helpers/cli.js";
import { git } from "../helpers/git-repo.js";
import { tempDir, waitFor } from "../helpers/temp.js";

const AUTHOR = "author@example.com";
const REVIEWER = "reviewer@example.com";

interface StatusJson {
  readonly stages: readonly { readonly name: string; readonly phase: string; readonly approval: string; readonly message: string }[];
  readonly tasks: readonly { readonly name: string; readonly phase: string }[];
  readonly waitingFor: readonly string[];
}

function myRepo(): string {
  const repo = join(tempDir("gaffer-walk-"), "my-repo");
  mkdirSync(join(repo, "test"), { recursive: true });
  git(repo, "init", "-q", "-b", "main");
  git(repo, "config", "user.email", AUTHOR);
  git(repo, "config", "user.name", "Author");
  git(repo, "config", "commit.gpgsign", "false");
  writeFileSync(join(repo, "package.json"), JSON.stringify({ name: "my-repo", type: "module", scripts: { test: "node --test" } }, null, 2) + "\n");
  writeFileSync(join(repo, "test/one.test.js"), 'import { test } from "node:test";\ntest("one", () => {});\n');
  git(repo, "add", ".");
  git(repo, "commit", "-q", "-m", "feat: my repo");
  return repo;
}

async function status(repo: string): Promise<StatusJson> {
  const result = await runGaffer(["status", "--json"], { cwd: repo });
  expect(result).toMatchObject({ exitCode: 0 });
  return JSON.parse(result.stdout) as StatusJson;
}

/**
 * A stage's or task's phase read straight from the ledger (read-only): what the
 * waits poll, since a `gaffer status` process per poll costs ~0.4 s of CPU; each
 * wait's result is then checked through `gaffer status --json` as a newcomer sees it.
 */
function ledgerPhase(repo: string, kind: "stages" | "tasks", name: string): string | undefined {
  const file = join(repo, ".gaffer/ledger.sqlite");
  if (!existsSync(file)) return undefined;
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare(`select phase from ${kind} where name = ?`).get(name) as { phase: string } | undefined)?.phase;
  } finally {
    db.close();
  }
}

function phaseOf(view: StatusJson, kind: "stages" | "tasks", name: string): string | undefined {
  return view[kind].find((x) => x.name === name)?.phase;
}

test("a newcomer follows the README in a fresh repo, with a separate approver, to a merged task", async () => {
  const repo = myRepo();
  const socket = `gaffer-test-walk-${process.pid}-${Date.now()}`;
  // gaffer init
  const init = await runGaffer(["init"], { cwd: repo });
  expect(init).toMatchObject({ exitCode: 0, stderr: "" });
  expect(init.stdout).toContain(`note: ${AUTHOR} is the only approver and preventSelfApproval is true`);
  expect(init.stdout).toContain("gate: [npm, test] (from package.json scripts.test)");
  expect(init.stdout).toContain("worktrees: ../my-repo.gaffer-worktrees");
  expect(readFileSync(join(repo, "manifests/project.yaml"), "utf8").split("\n")[0]).toBe("# yaml-language-server: $schema=../.gaffer-schemas/project.schema.json");
  expect(existsSync(join(repo, ".gaffer-schemas/project.schema.json"))).toBe(true);
  // $EDITOR manifests/project.yaml: the second approver (and, test only, a socket of its own)
  const project = readFileSync(join(repo, "manifests/project.yaml"), "utf8");
  writeFileSync(join(repo, "manifests/project.yaml"), project.replace(`      - "${AUTHOR}"\n`, `      - "${AUTHOR}"\n      - ${REVIEWER}\n`).replace("tmuxSocket: gaffer\n", `tmuxSocket: ${socket}\n`));
  onTestFinished(async () => {
    await execa("tmux", ["-L", socket, "kill-server"], { reject: false });
  });
  expect(await runGaffer(["validate"], { cwd: repo })).toMatchObject({ exitCode: 0, stderr: "" });
  const plan = await runGaffer(["plan", "build"], { cwd: repo });
  expect(plan).toMatchObject({ exitCode: 0, stderr: "" });
  expect(plan.stdout).toContain("builder");
  // git add manifests .gaffer-schemas .gitignore && git commit
  git(repo, "add", "manifests", ".gaffer-schemas", ".gitignore");
  git(repo, "commit", "-q", "-m", "chore: gaffer manifests");
  // gaffer up (another terminal)
  const up = execa(process.execPath, [GAFFER_BIN, "up"], { cwd: repo, env: { TMUX: "" }, reject: false });
  onTestFinished(async () => {
    up.kill("SIGTERM");
    await up;
  });
  await waitFor(() => (ledgerPhase(repo, "stages", "build") === "AwaitingApproval" && ledgerPhase(repo, "tasks", "write-plan") === "Merged" ? true : undefined), { timeoutMs: 90_000, intervalMs: 100, what: "plan merged and build awaiting approval" });
  const proposed = await status(repo);
  expect([phaseOf(proposed, "stages", "build"), phaseOf(proposed, "tasks", "write-plan")]).toEqual(["AwaitingApproval", "Merged"]);
  // The author cannot approve their own manifests: the hint names only the reviewer.
  expect(proposed.stages.find((s) => s.name === "build")!.message).toContain(`an approver (${REVIEWER}) runs \`gaffer approve build\``);
  // gaffer approve build, as the second approver
  const approve = await runGaffer(["approve", "build"], { cwd: repo, env: { GIT_AUTHOR_NAME: "Reviewer", GIT_AUTHOR_EMAIL: REVIEWER, GIT_COMMITTER_NAME: "Reviewer", GIT_COMMITTER_EMAIL: REVIEWER } });
  expect(approve).toMatchObject({ exitCode: 0, stderr: "" });
  expect(approve.stdout).toMatch(new RegExp(`^approved stage build \\(request build-[0-9a-f]{12}\\) as ${REVIEWER}: commit [0-9a-f]{12} changes only status/stages/build.yaml`));
  await waitFor(() => (ledgerPhase(repo, "tasks", "add-feature") === "Merged" ? true : undefined), { timeoutMs: 120_000, intervalMs: 100, what: "add-feature merged" });
  expect(phaseOf(await status(repo), "tasks", "add-feature")).toBe("Merged");
  expect(git(repo, "show", "main:docs/gaffer.md")).toContain("Tasks for this repository are run by gaffer");
  expect(git(repo, "log", "--first-parent", "--format=%s", "main")).toContain("chore: gaffer manifests");
  expect(existsSync(join(repo, ".gaffer/worktrees"))).toBe(false);
  // The target's own test runner finds only its own test.
  const own = await execa("node", ["--test"], { cwd: repo, reject: false });
  expect(own.exitCode).toBe(0);
  expect(own.stdout).toMatch(/# tests 1\n/);
}, 300_000);
