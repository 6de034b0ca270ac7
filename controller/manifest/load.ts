import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { ManifestInvalidError, NotFoundError } from "../errors.js";
import type { ManifestSet } from "../core/manifest-types.js";
import { formatManifestIssue } from "./manifest-issue.js";
import { validateManifests, type ManifestSource, type ValidationResult } from "./validate.js";

export const MANIFESTS_DIR = "manifests";

/** Reads every `*.yaml`/`*.yml` file under `<dir>/manifests` (recursively), paths relative to `dir`. */
export async function readManifestSources(dir: string): Promise<ManifestSource[]> {
  let entries: string[];
  try {
    entries = await readdir(join(dir, MANIFESTS_DIR), { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") {
      throw new NotFoundError(`no ${MANIFESTS_DIR}/ directory in ${dir}; run \`gaffer init --dir ${dir}\` or pass --dir`, { cause: error });
    }
    throw error;
  }
  const files = entries.filter((f) => /\.ya?ml$/.test(f)).sort();
  return Promise.all(
    files.map(async (f) => {
      const file = `${MANIFESTS_DIR}/${f.split("\\").join("/")}`;
      return { file, bytes: await readFile(join(dir, file)) };
    }),
  );
}

export async function validateDir(dir: string): Promise<ValidationResult> {
  return validateManifests(await readManifestSources(dir), MANIFESTS_DIR);
}

/** Loads the manifest set or throws MANIFEST_INVALID listing every problem. */
export async function loadManifestSet(dir: string): Promise<ManifestSet> {
  const result = await validateDir(dir);
  if (!result.valid) {
    const lines = result.issues.map(formatManifestIssue);
    throw new ManifestInvalidError(`${result.issues.length} problem${result.issues.length === 1 ? "" : "s"} in manifests (run \`gaffer validate\`):\n${lines.join("\n")}`, { details: { issues: result.issues } });
  }
  return result.set;
}
