import { readFileSync } from "node:fs";
import { packagePath } from "../paths.js";
import type { ManifestKind } from "../core/manifest-types.js";

/** Schema file name per kind (`schemas/<file>`). */
export const SCHEMA_FILES: Readonly<Record<ManifestKind, string>> = {
  Project: "project.schema.json",
  AgentPool: "agent-pool.schema.json",
  Playbook: "playbook.schema.json",
  Task: "task.schema.json",
};

/** Absolute path of the repo's `schemas/` directory. */
export const SCHEMAS_DIR = packagePath("schemas") + "/";

export type JsonSchema = Record<string, unknown>;

/** Reads the four schemas once. */
export function readSchemas(): Readonly<Record<ManifestKind, JsonSchema>> {
  const read = (file: string): JsonSchema => JSON.parse(readFileSync(SCHEMAS_DIR + file, "utf8")) as JsonSchema;
  return {
    Project: read(SCHEMA_FILES.Project),
    AgentPool: read(SCHEMA_FILES.AgentPool),
    Playbook: read(SCHEMA_FILES.Playbook),
    Task: read(SCHEMA_FILES.Task),
  };
}
