import type { ManifestSet } from "../core/manifest-types.js";
import { ManifestInvalidError } from "../errors.js";
import { manifestCacheKey, readCachedManifestSet, writeCachedManifestSet } from "./manifest-cache.js";
import { formatManifestIssue } from "./manifest-issue.js";
import { MANIFESTS_DIR, readManifestSources } from "./manifest-sources.js";
import type { ValidationResult } from "./validate.js";

// Reading the files needs no YAML parser: `gaffer log` finds its ledger without loading one (manifest-sources.ts).
export { MANIFESTS_DIR, readManifestSources } from "./manifest-sources.js";

export async function validateDir(dir: string): Promise<ValidationResult> {
  const { validateManifests } = await import("./validate.js");
  return validateManifests(await readManifestSources(dir), MANIFESTS_DIR);
}

/**
 * Loads the manifest set or throws MANIFEST_INVALID listing every problem.
 * Unchanged valid manifests come from the control dir's cache (manifest-cache.ts).
 */
export async function loadManifestSet(dir: string): Promise<ManifestSet> {
  const sources = await readManifestSources(dir);
  const key = manifestCacheKey(sources, MANIFESTS_DIR);
  const cached = readCachedManifestSet(dir, key);
  if (cached !== null) return cached;
  const { validateManifests } = await import("./validate.js");
  const result = validateManifests(sources, MANIFESTS_DIR);
  if (!result.valid) {
    const lines = result.issues.map(formatManifestIssue);
    throw new ManifestInvalidError(`${result.issues.length} problem${result.issues.length === 1 ? "" : "s"} in manifests (run \`gaffer validate\`):\n${lines.join("\n")}`, { details: { issues: result.issues } });
  }
  writeCachedManifestSet(dir, key, result.set);
  return result.set;
}
