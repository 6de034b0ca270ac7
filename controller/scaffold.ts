import { existsSync } from "node:fs";
import { appendFile, copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { defaultWorktreeRoot } from "./core/worktree-root.js";
import { AlreadyExistsError } from "./errors.js";
import { SCHEMA_FILES, SCHEMAS_DIR } from "./manifest/schemas.js";
import { packagePath } from "./paths.js";
import { detectTestCommand, type DetectedTestCommand } from "./scaffold-gate.js";

/** The repo's own `manifests/`: the templates `init` writes. */
export const TEMPLATE_DIR = packagePath("manifests");
const TEMPLATES = ["project.yaml", "agents.yaml", "playbook.yaml", "tasks.yaml"] as const;

/** Where `init` copies the JSON Schemas, so every collaborator's editor finds them inside the control repo. */
export const CONTROL_SCHEMAS_DIR = ".gaffer-schemas";

/** What `init` adds to `.gitignore`: gaffer's local state, and status files only the controller writes. */
export const GITIGNORE_LINES = [".gaffer/", "status/controller.yaml", "status/tasks/"] as const;

export interface ScaffoldOptions {
  readonly dir: string;
  /** Project.spec.repo, relative to the control dir. */
  readonly repo: string;
  /** The approver written into the policy (the current git user when known). */
  readonly approver: string | null;
}

export interface ScaffoldResult {
  readonly written: readonly string[];
  /** The lines added to `.gitignore` (empty when all were there). */
  readonly gitignoreAdded: readonly string[];
  /** Project.spec.worktreeRoot as written (relative to the control dir). */
  readonly worktreeRoot: string;
  readonly testCommand: DetectedTestCommand;
}

/** A DNS-label project name from a directory name. */
export function projectNameFor(dir: string): string {
  const name = basename(resolve(dir)).toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 63).replace(/-+$/, "");
  return name === "" ? "project" : name;
}

/**
 * Writes the default manifests, `.gaffer-schemas/`, `status/`, `memory/` and
 * the `.gitignore` lines. Refuses, writing nothing, when any manifest already exists.
 */
export async function scaffoldControlDir(options: ScaffoldOptions): Promise<ScaffoldResult> {
  const dir = resolve(options.dir);
  const targets = TEMPLATES.map((t) => join("manifests", t));
  const existing = targets.filter((t) => existsSync(join(dir, t)));
  if (existing.length > 0) {
    throw new AlreadyExistsError(`${existing.join(", ")} already exist${existing.length === 1 ? "s" : ""} in ${dir}; init never overwrites (edit them, or init another --dir)`);
  }
  await mkdir(join(dir, "manifests"), { recursive: true });
  for (const sub of ["status", "memory"]) {
    await mkdir(join(dir, sub), { recursive: true });
    if (!existsSync(join(dir, sub, ".gitkeep"))) await writeFile(join(dir, sub, ".gitkeep"), "");
  }
  await mkdir(join(dir, CONTROL_SCHEMAS_DIR), { recursive: true });
  const schemas = Object.values(SCHEMA_FILES).map((file) => join(CONTROL_SCHEMAS_DIR, file));
  for (const file of Object.values(SCHEMA_FILES)) await copyFile(SCHEMAS_DIR + file, join(dir, CONTROL_SCHEMAS_DIR, file));
  const render = { ...options, dir, worktreeRoot: defaultWorktreeRoot(dir, options.repo), testCommand: detectTestCommand(resolve(dir, options.repo)) };
  for (const template of TEMPLATES) {
    const text = await readFile(join(TEMPLATE_DIR, template), "utf8");
    await writeFile(join(dir, "manifests", template), renderTemplate(template, text, render), { flag: "wx" });
  }
  return { written: [...targets, ...schemas], gitignoreAdded: await ensureGitignore(dir), worktreeRoot: render.worktreeRoot, testCommand: render.testCommand };
}

interface RenderInput extends ScaffoldOptions {
  readonly worktreeRoot: string;
  readonly testCommand: DetectedTestCommand;
}

function renderTemplate(template: string, text: string, input: RenderInput): string {
  let out = text.replace(/\$schema=\.\.\/schemas\//, `$schema=../${CONTROL_SCHEMAS_DIR}/`);
  if (template === "project.yaml") {
    out = out
      .replace(/^  name: my-project$/m, `  name: ${projectNameFor(input.dir)}`)
      .replace(/^  repo: \.$/m, `  repo: ${JSON.stringify(input.repo)}`)
      .replace(/^  worktreeRoot: \.gaffer\/worktrees$/m, `  worktreeRoot: ${JSON.stringify(input.worktreeRoot)}`);
    if (input.approver !== null) out = out.replace(/- you@example\.com$/m, `- ${JSON.stringify(input.approver)}`);
  }
  if (template === "playbook.yaml") out = out.replaceAll("- [npm, test]", `- [${input.testCommand.argv.map(flowScalar).join(", ")}]`);
  return out;
}

/** A YAML flow scalar: plain when it cannot be misread, else a JSON string. */
function flowScalar(value: string): string {
  return /^[A-Za-z0-9_./-]+$/.test(value) ? value : JSON.stringify(value);
}

async function ensureGitignore(dir: string): Promise<string[]> {
  const file = join(dir, ".gitignore");
  const current = existsSync(file) ? await readFile(file, "utf8") : "";
  const present = new Set(current.split(/\r?\n/).map((line) => line.trim().replace(/^\/|\/$/g, "")));
  const missing = GITIGNORE_LINES.filter((line) => !present.has(line.replace(/\/$/, "")));
  if (missing.length > 0) await appendFile(file, (current === "" || current.endsWith("\n") ? "" : "\n") + missing.map((l) => l + "\n").join(""));
  return missing;
}
