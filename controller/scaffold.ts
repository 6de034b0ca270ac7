import { existsSync } from "node:fs";
import { appendFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { basename, join, relative, resolve } from "node:path";
import { AlreadyExistsError } from "./errors.js";
import { SCHEMAS_DIR } from "./manifest/schemas.js";
import { packagePath } from "./paths.js";

/** The repo's own `manifests/`: the templates `init` writes. */
export const TEMPLATE_DIR = packagePath("manifests");
const TEMPLATES = ["project.yaml", "agents.yaml", "playbook.yaml", "tasks.yaml"] as const;

export interface ScaffoldOptions {
  readonly dir: string;
  /** Project.spec.repo, relative to the control dir. */
  readonly repo: string;
  /** The approver written into the policy (the current git user when known). */
  readonly approver: string | null;
}

export interface ScaffoldResult {
  readonly written: readonly string[];
  readonly gitignoreUpdated: boolean;
}

/** A DNS-label project name from a directory name. */
export function projectNameFor(dir: string): string {
  const name = basename(resolve(dir)).toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 63).replace(/-+$/, "");
  return name === "" ? "project" : name;
}

/**
 * Writes the default manifests, `status/`, `memory/` and a `.gitignore` line
 * for `.gaffer/`. Refuses, writing nothing, when any manifest already exists.
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
  for (const template of TEMPLATES) {
    const text = await readFile(join(TEMPLATE_DIR, template), "utf8");
    await writeFile(join(dir, "manifests", template), renderTemplate(template, text, dir, options), { flag: "wx" });
  }
  return { written: targets, gitignoreUpdated: await ensureGitignore(dir) };
}

function renderTemplate(template: string, text: string, dir: string, options: ScaffoldOptions): string {
  const schemaPath = relative(join(dir, "manifests"), SCHEMAS_DIR).split("\\").join("/");
  let out = text.replace(/\$schema=\.\.\/schemas\//, `$schema=${schemaPath}/`);
  if (template === "project.yaml") {
    out = out.replace(/^  name: my-project$/m, `  name: ${projectNameFor(dir)}`).replace(/^  repo: \.$/m, `  repo: ${JSON.stringify(options.repo)}`);
    if (options.approver !== null) out = out.replace(/- you@example\.com$/m, `- ${JSON.stringify(options.approver)}`);
  }
  return out;
}

async function ensureGitignore(dir: string): Promise<boolean> {
  const file = join(dir, ".gitignore");
  const current = existsSync(file) ? await readFile(file, "utf8") : "";
  if (current.split(/\r?\n/).some((line) => line.trim() === ".gaffer/" || line.trim() === ".gaffer")) return false;
  await appendFile(file, (current === "" || current.endsWith("\n") ? "" : "\n") + ".gaffer/\n");
  return true;
}
