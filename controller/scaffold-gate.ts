import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** The test command `init` puts in the gates, and how it was found. */
export interface DetectedTestCommand {
  readonly argv: readonly string[];
  /** What it was found from (`package.json scripts.test`), or null when nothing was found. */
  readonly source: string | null;
}

/** npm's placeholder script (`npm init`): it always fails. */
const NPM_PLACEHOLDER = /no test specified/;

function npmTest(repo: string): boolean {
  try {
    const pkg = JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as { scripts?: { test?: unknown } };
    return typeof pkg.scripts?.test === "string" && !NPM_PLACEHOLDER.test(pkg.scripts.test);
  } catch {
    return false;
  }
}

function makeTest(repo: string): boolean {
  for (const file of ["Makefile", "makefile", "GNUmakefile"]) {
    if (existsSync(join(repo, file)) && /^test\s*:/m.test(readFileSync(join(repo, file), "utf8"))) return true;
  }
  return false;
}

/**
 * The target repo's own test command, found from its files, so the gates
 * `init` writes run as they are. With nothing found, the gate checks the
 * task's commits for whitespace errors (`git diff --check`) and init says so.
 */
export function detectTestCommand(repo: string): DetectedTestCommand {
  if (npmTest(repo)) return { argv: ["npm", "test"], source: "package.json scripts.test" };
  if (makeTest(repo)) return { argv: ["make", "test"], source: "the Makefile's test target" };
  if (existsSync(join(repo, "Cargo.toml"))) return { argv: ["cargo", "test"], source: "Cargo.toml" };
  if (existsSync(join(repo, "go.mod"))) return { argv: ["go", "test", "./..."], source: "go.mod" };
  if (existsSync(join(repo, "pyproject.toml")) || existsSync(join(repo, "pytest.ini"))) return { argv: ["python3", "-m", "pytest"], source: "pyproject.toml / pytest.ini" };
  return { argv: ["git", "diff", "--check", "HEAD~1"], source: null };
}
