/**
 * The last valid manifest set of a control dir, kept beside its ledger in
 * `.gaffer/manifest-cache.json` with a key: the build of gaffer that
 * validated it (the bundle's directory names a hash of every source file),
 * the schemas' bytes, and every manifest file's name and bytes. The same key
 * means the same set: validation is a pure function of exactly these, so a
 * `status` or `report` on unchanged manifests skips parsing the YAML and
 * running the schemas (cold, that cost `status` ~50 ms). Only a valid set is
 * kept (problems need their positions, so invalid manifests are always
 * validated); only from the bundle (running the sources through tsx there
 * is no build hash, and nothing is read or written); a cache that cannot be
 * read or written is never an error.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import type { ManifestSet } from "../core/manifest-types.js";
import { SCHEMA_FILES, SCHEMAS_DIR } from "./schemas.js";
import type { ManifestSource } from "./validate.js";

/** Where a control dir keeps its cached set. */
export const MANIFEST_CACHE_FILE = join(".gaffer", "manifest-cache.json");

/** The hash in the bundle directory's name (`.gaffer-build/gaffer-HASH/`), or null when not running from a bundle. */
function buildId(url: string = import.meta.url): string | null {
  return /\/\.gaffer-build\/gaffer-([0-9a-f]+)\//.exec(url)?.[1] ?? null;
}

/** The key of these sources' validation, or null when they cannot be cached (no bundle, or a file that was not read). */
export function manifestCacheKey(sources: readonly ManifestSource[], manifestsDir: string, build: string | null = buildId()): string | null {
  if (build === null || sources.some((s) => s.problem !== undefined)) return null;
  const hash = createHash("sha256").update(`${build}\0${manifestsDir}\0`);
  try {
    for (const file of Object.values(SCHEMA_FILES)) hash.update(readFileSync(SCHEMAS_DIR + file)).update("\0");
  } catch {
    return null;
  }
  for (const source of sources) hash.update(`${source.file}\0${source.bytes.length}\0`).update(source.bytes);
  return hash.digest("hex");
}

/** The cached set for `key`, or null. */
export function readCachedManifestSet(dir: string, key: string | null): ManifestSet | null {
  if (key === null) return null;
  try {
    const cached = JSON.parse(readFileSync(join(dir, MANIFEST_CACHE_FILE), "utf8")) as { key?: unknown; set?: ManifestSet };
    return cached.key === key && cached.set !== undefined ? cached.set : null;
  } catch {
    return null;
  }
}

/** Keeps `set` under `key` (atomically: a temp file renamed), when JSON gives it back exactly; failures are ignored. */
export function writeCachedManifestSet(dir: string, key: string | null, set: ManifestSet): void {
  if (key === null) return;
  const text = JSON.stringify({ key, set });
  // `.inf`, `-0` and the like do not survive JSON: such a set is validated every time instead.
  if (!isDeepStrictEqual((JSON.parse(text) as { set: unknown }).set, set)) return;
  const file = join(dir, MANIFEST_CACHE_FILE);
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    mkdirSync(join(file, ".."), { recursive: true });
    writeFileSync(tmp, text);
    renameSync(tmp, file);
  } catch {
    rmSync(tmp, { force: true });
  }
}
