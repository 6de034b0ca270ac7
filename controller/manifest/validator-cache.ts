/**
 * The manifest schemas' validators, compiled by ajv once per schema version
 * rather than once per command: ajv's standalone code for the four kinds is
 * kept in `.gaffer-build/validators-HASH.cjs` (HASH of the schemas, ajv's
 * version and the options), and later processes load it in a few
 * milliseconds. Compiling took ~0.4 s of every `gaffer status`. A cache that
 * cannot be read or written is never an error: the validators are then
 * compiled in memory, as before.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type { Ajv2020, Options, ValidateFunction } from "ajv/dist/2020.js";
import { MANIFEST_KINDS, type ManifestKind } from "../core/manifest-types.js";
import { packagePath } from "../paths.js";

export type Validators = Readonly<Record<ManifestKind, ValidateFunction>>;

const OPTIONS: Options = { allErrors: true, strict: true, verbose: true };
const require = createRequire(import.meta.url);

/** Where the compiled validators of these schemas live (one file per schema version). */
export function validatorCacheFile(schemas: Readonly<Record<ManifestKind, object>>, dir: string = packagePath(".gaffer-build")): string {
  const ajvVersion = (require("ajv/package.json") as { version: string }).version;
  const hash = createHash("sha256").update(JSON.stringify({ ajvVersion, OPTIONS, schemas })).digest("hex").slice(0, 16);
  return join(dir, `validators-${hash}.cjs`);
}

/** The validators: loaded from the cache when it holds these schemas' code, else compiled (and cached for the next process). */
export function loadValidators(schemas: Readonly<Record<ManifestKind, object>>, dir?: string): Validators {
  const file = validatorCacheFile(schemas, dir);
  try {
    const cached = require(file) as Partial<Validators>;
    if (MANIFEST_KINDS.every((kind) => typeof cached[kind] === "function")) return cached as Validators;
  } catch {
    // not cached yet, or unreadable: compiled below
  }
  // ajv itself (~50 ms to load) is needed only here: a process that finds the cache never loads it.
  const { Ajv2020: Ajv } = require("ajv/dist/2020.js") as { Ajv2020: typeof Ajv2020 };
  const standaloneCode = (require("ajv/dist/standalone/index.js") as { default: (ajv: Ajv2020, refs: Record<string, string>) => string }).default;
  const ajv = new Ajv({ ...OPTIONS, code: { source: true } });
  for (const kind of MANIFEST_KINDS) ajv.addSchema(schemas[kind], kind);
  const compiled = Object.fromEntries(MANIFEST_KINDS.map((kind) => [kind, ajv.getSchema(kind)!])) as Validators;
  writeCache(file, () => standaloneCode(ajv, Object.fromEntries(MANIFEST_KINDS.map((kind) => [kind, kind]))));
  return compiled;
}

/** Writes the module atomically (a temp file renamed), so a process never loads half of one; failures are ignored. */
function writeCache(file: string, code: () => string): void {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    mkdirSync(join(file, ".."), { recursive: true });
    writeFileSync(tmp, code());
    renameSync(tmp, file);
  } catch {
    rmSync(tmp, { force: true });
  }
}

/** For tests: the cached module's text, or null. */
export function readValidatorCache(schemas: Readonly<Record<ManifestKind, object>>, dir?: string): string | null {
  try {
    return readFileSync(validatorCacheFile(schemas, dir), "utf8");
  } catch {
    return null;
  }
}
