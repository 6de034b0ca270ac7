import type { Dirent } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { readBoundedFile } from "../adapters/bounded-read.js";
import { NotFoundError } from "../errors.js";
import type { ManifestSource } from "./validate.js";

export const MANIFESTS_DIR = "manifests";

/**
 * Reads every `*.yaml`/`*.yml` file under `<dir>/manifests` (recursively, not
 * through symlinked directories), paths relative to `dir`. Only regular files
 * of at most 1 MiB are read; a FIFO, device, symlink out of `manifests/` or
 * oversized file becomes a source with a `problem` (never a hang).
 */
export async function readManifestSources(dir: string): Promise<ManifestSource[]> {
  const root = join(dir, MANIFESTS_DIR);
  const files = (await listYamlFiles(root)).sort();
  return Promise.all(
    files.map(async (f): Promise<ManifestSource> => {
      const file = `${MANIFESTS_DIR}/${f.split("\\").join("/")}`;
      const read = await readBoundedFile(join(dir, file), { root, rootLabel: MANIFESTS_DIR });
      if (read === null) return { file, bytes: new Uint8Array(), problem: { code: "FILE_UNREADABLE", message: "file disappeared while it was being read; retry" } };
      return read.ok ? { file, bytes: read.bytes } : { file, bytes: new Uint8Array(), problem: read.problem };
    }),
  );
}

async function listYamlFiles(root: string): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(root, { recursive: true, withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") {
      throw new NotFoundError(`no ${MANIFESTS_DIR}/ directory in ${join(root, "..")}; run \`gaffer init --dir ${join(root, "..")}\` or pass --dir`, { cause: error });
    }
    throw error;
  }
  // Directories are walked (readdir does not descend into symlinked ones); every other entry with a YAML name is read.
  return entries.filter((e) => !e.isDirectory() && /\.ya?ml$/.test(e.name)).map((e) => join(e.parentPath, e.name).slice(root.length + 1));
}
