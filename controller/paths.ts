import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The gaffer package root, found by walking up from this module to gaffer's
 * package.json. Every shipped file (schemas, templates, the scripted agent) is
 * located from here, so the sources work the same run directly or bundled.
 */
/** gaffer's npm package name (`gaffer` itself belongs to an unrelated package); the bin stays `gaffer`. */
export const PACKAGE_NAME = "gaffer-agents";

function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === PACKAGE_NAME) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error("gaffer's package.json not found above " + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

export const PACKAGE_ROOT = findPackageRoot();

/** Absolute path of a file shipped with gaffer, e.g. `packagePath("schemas", "task.schema.json")`. */
export function packagePath(...parts: string[]): string {
  return join(PACKAGE_ROOT, ...parts);
}
