import type { ManifestSet } from "../core/manifest-types.js";
import { ManifestInvalidError } from "../errors.js";
import { formatManifestIssue } from "./manifest-issue.js";
import { MANIFESTS_DIR, readManifestSources } from "./manifest-sources.js";
import { validateManifests, type ValidationResult } from "./validate.js";

// Reading the files needs no YAML parser: `gaffer log` finds its ledger without loading one (manifest-sources.ts).
export { MANIFESTS_DIR, readManifestSources } from "./manifest-sources.js";

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
