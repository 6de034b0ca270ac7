import { writeFileSync } from "node:fs";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { readSchemas } from "../../controller/manifest/schemas.js";
import { loadValidators, readValidatorCache, validatorCacheFile } from "../../controller/manifest/validator-cache.js";
import { tempDir } from "../helpers/temp.js";

const schemas = readSchemas();
const badTask = { apiVersion: "gaffer/v1", kind: "Task", metadata: { name: "x" }, spec: { stage: "build", role: 3, extra: true } };
const goodTask = { apiVersion: "gaffer/v1", kind: "Task", metadata: { name: "x" }, spec: { stage: "build", role: "builder", prompt: "do it" } };

/** What ajv compiled in memory says of a document (the reference). */
function reference(doc: unknown): unknown {
  const validate = new Ajv2020({ allErrors: true, strict: true, verbose: true }).compile(schemas.Task);
  validate(doc);
  return validate.errors ?? null;
}

describe("the manifest validators' cache", () => {
  it("compiles once per schema version: the next process loads the cached code, which judges exactly as ajv compiled in memory", () => {
    const dir = tempDir("gaffer-validators-");
    expect(readValidatorCache(schemas, dir)).toBeNull();
    const first = loadValidators(schemas, dir);
    const code = readValidatorCache(schemas, dir);
    expect(code).toContain('exports.Task = ');
    expect(validatorCacheFile(schemas, dir)).toMatch(/\/validators-[0-9a-f]{16}\.cjs$/);
    const cached = loadValidators(schemas, dir);
    expect(cached).not.toBe(first);
    for (const validate of [first.Task, cached.Task]) {
      expect(validate(goodTask)).toBe(true);
      expect(validate(badTask)).toBe(false);
      expect(validate.errors).toEqual(reference(badTask));
    }
    // Another schema text is another file: a changed schema is never judged by old code.
    expect(validatorCacheFile({ ...schemas, Task: { ...schemas.Task, description: "changed" } }, dir)).not.toBe(validatorCacheFile(schemas, dir));
  });

  it("a cache file that is not valid code is compiled around and replaced, never an error", () => {
    const dir = tempDir("gaffer-validators-");
    writeFileSync(validatorCacheFile(schemas, dir), "this is not javascript {");
    const validators = loadValidators(schemas, dir);
    expect(validators.Task(badTask)).toBe(false);
    expect(validators.Task.errors).toEqual(reference(badTask));
    expect(readValidatorCache(schemas, dir)).toContain("exports.Task = ");
  });
});
