import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import {
  AGENT_PROFILE_NAMES,
  API_VERSION,
  MANIFEST_KINDS,
  type AgentPoolManifest,
  type GateSpec,
  type ManifestKind,
  type MergeStrategy,
  type PlaybookManifest,
  type ProjectManifest,
  type StageSpec,
  type TaskManifest,
  type WorktreeRetention,
} from "../../controller/core/manifest-types.js";
import { readSchemas, type JsonSchema } from "../../controller/manifest/schemas.js";

/** Every optional field made required, all the way down: TS then insists the example sets every field of the type. */
type DeepRequired<T> = T extends readonly (infer U)[] ? readonly DeepRequired<U>[] : T extends object ? { [K in keyof T]-?: DeepRequired<T[K]> } : T;

const metadata = { name: "example", labels: { team: "core" } };
const gate: DeepRequired<GateSpec> = { commands: [["npm", "test"]], review: "required", timeoutMs: 60_000, none: "reviewed by people" };

const project: DeepRequired<ProjectManifest> = {
  apiVersion: API_VERSION,
  kind: "Project",
  metadata,
  spec: {
    repo: ".",
    baseBranch: "main",
    integrationBranch: "integration",
    worktreeRoot: ".gaffer/worktrees",
    tmuxSocket: "gaffer",
    ledger: { url: "postgres://gaffer@db.example.com:5432/gaffer" },
    paused: false,
    capacity: { global: 4, perAgent: { claude: 2 }, perRole: { builder: 3 } },
    policy: {
      branchPattern: "gaffer/{stage}/{task}",
      commitFormat: "^feat: .+",
      protectedBranches: ["main"],
      mergeStrategy: "merge",
      approvers: ["lead@example.com"],
      requiredApprovals: 1,
      preventSelfApproval: true,
      requireSignedApprovals: true,
      allowedSignersFile: "allowed_signers",
      maxGateAttempts: 3,
      maxResolveAttempts: 2,
      worktreeRetention: "keep",
      secretsDenylist: [".env"],
      requireCommittedManifests: false,
      agentAuthor: { name: "gaffer agent", email: "agent+{session}@gaffer.invalid" },
    },
  },
};

const agentPool: DeepRequired<AgentPoolManifest> = {
  apiVersion: API_VERSION,
  kind: "AgentPool",
  metadata,
  spec: {
    agents: [
      {
        name: "claude",
        profile: "claude",
        command: ["claude", "--model", "{model}"],
        models: ["opus"],
        capacity: 2,
        env: { A: "b" },
        readyPattern: "^> ",
        busyPattern: "working",
        waitingPattern: "\\?",
        errorPattern: "Error",
        rateLimitPattern: "limit",
        idleAfterMs: 1500,
        stuckAfterMs: 600_000,
        startupTimeoutMs: 30_000,
        maxRestarts: 2,
        pricing: { sonnet: { inputPerMTok: 3, outputPerMTok: 15, cacheReadPerMTok: 0.3, cacheWritePerMTok: 3.75 } },
      },
    ],
    hosts: [{ name: "box-1", ssh: "agent@box-1.example.com", port: 2222, identityFile: "keys/box-1", capacity: 4, workdir: "/srv/gaffer" }],
  },
};

const stage: DeepRequired<StageSpec> = {
  name: "build",
  needs: ["plan"],
  roles: [{ name: "builder", count: 2, allowedAgents: ["claude"], model: "opus" }],
  approval: "required",
  gate,
};

const playbook: DeepRequired<PlaybookManifest> = { apiVersion: API_VERSION, kind: "Playbook", metadata, spec: { stages: [stage] } };

const task: DeepRequired<TaskManifest> = {
  apiVersion: API_VERSION,
  kind: "Task",
  metadata,
  spec: { stage: "build", role: "builder", prompt: "Do it.", branch: "feature/x", dependsOn: ["other"], gate, paused: false },
};

const EXAMPLES: Readonly<Record<ManifestKind, unknown>> = { Project: project, AgentPool: agentPool, Playbook: playbook, Task: task };
const SCHEMAS = readSchemas();

/** Follows a local `$ref` (`#/$defs/x`) within the root schema. */
function resolve(schema: JsonSchema, root: JsonSchema): JsonSchema {
  const ref = schema.$ref;
  if (typeof ref !== "string") return schema;
  const target = ref.replace(/^#\//, "").split("/").reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], root);
  return resolve(target as JsonSchema, root);
}

const join = (path: string, key: string): string => (path === "" ? key : `${path}.${key}`);

/** Property paths a schema allows: `spec.agents[].name`; a free-form map is `metadata.labels.*`. */
function schemaPaths(node: JsonSchema, root: JsonSchema, path = ""): string[] {
  const schema = resolve(node, root);
  const out: string[] = [];
  const properties = schema.properties as Record<string, JsonSchema> | undefined;
  for (const [key, sub] of Object.entries(properties ?? {})) out.push(join(path, key), ...schemaPaths(sub, root, join(path, key)));
  if (properties === undefined && typeof schema.additionalProperties === "object") {
    out.push(join(path, "*"), ...schemaPaths(schema.additionalProperties as JsonSchema, root, join(path, "*")));
  }
  if (typeof schema.items === "object") out.push(...schemaPaths(schema.items as JsonSchema, root, `${path}[]`));
  return out;
}

/** The same paths, as the example value actually has them. */
function valuePaths(value: unknown, node: JsonSchema, root: JsonSchema, path = ""): string[] {
  const schema = resolve(node, root);
  if (Array.isArray(value)) return value.flatMap((item) => valuePaths(item, (schema.items ?? {}) as JsonSchema, root, `${path}[]`));
  if (value === null || typeof value !== "object") return [];
  const properties = schema.properties as Record<string, JsonSchema> | undefined;
  return Object.entries(value).flatMap(([key, sub]) => {
    const child = properties === undefined ? join(path, "*") : join(path, key);
    const childSchema = properties === undefined ? (schema.additionalProperties as JsonSchema) : (properties[key] ?? {});
    return [child, ...valuePaths(sub, childSchema, root, child)];
  });
}

const sorted = (paths: string[]): string[] => [...new Set(paths)].sort();

describe.each(MANIFEST_KINDS)("%s: manifest-types.ts and its schema agree", (kind) => {
  const schema = SCHEMAS[kind];

  it("the fully populated typed example validates (no type field is missing from the schema)", () => {
    const validate = new Ajv2020({ allErrors: true, strict: true }).compile(schema);
    validate(EXAMPLES[kind]);
    expect(validate.errors ?? []).toEqual([]);
  });

  it("the example has every property path of the schema (no schema field is missing from the type)", () => {
    expect(sorted(valuePaths(EXAMPLES[kind], schema, schema))).toEqual(sorted(schemaPaths(schema, schema)));
  });

  it("every property has a non-empty description", () => {
    const missing: string[] = [];
    const visit = (node: JsonSchema, path: string): void => {
      for (const [key, sub] of Object.entries((node.properties ?? {}) as Record<string, JsonSchema>)) {
        const description = sub.description ?? resolve(sub, schema).description;
        if (typeof description !== "string" || description.trim() === "") missing.push(join(path, key));
        visit(resolve(sub, schema), join(path, key));
        if (typeof sub.items === "object") visit(resolve(sub.items as JsonSchema, schema), `${join(path, key)}[]`);
      }
    };
    visit(schema, "");
    expect(missing).toEqual([]);
    expect(typeof schema.description).toBe("string");
  });
});

describe("enumerations agree", () => {
  // Record<Union, true> makes TS require exactly the union's members as keys.
  const mergeStrategies: Record<MergeStrategy, true> = { merge: true, squash: true, rebase: true };
  const retentions: Record<WorktreeRetention, true> = { "remove-after-merge": true, keep: true };
  const reviews: Record<NonNullable<GateSpec["review"]>, true> = { required: true, none: true };
  const approvals: Record<NonNullable<StageSpec["approval"]>, true> = { required: true, none: true };
  /** The sorted enum at a path; `$defs/x` steps into a definition. */
  const enumAt = (kind: ManifestKind, ...path: string[]): string[] => {
    const root = SCHEMAS[kind];
    const node = path.reduce<JsonSchema>((at, key) => {
      if (key.startsWith("$defs/")) return resolve({ $ref: `#/${key}` }, root);
      return ((resolve(at, root).properties ?? {}) as Record<string, JsonSchema>)[key]!;
    }, root);
    return [...(resolve(node, root).enum as string[])].sort();
  };

  it.each([
    ["Project spec.policy.mergeStrategy", enumAt("Project", "spec", "policy", "mergeStrategy"), Object.keys(mergeStrategies)],
    ["Project spec.policy.worktreeRetention", enumAt("Project", "spec", "policy", "worktreeRetention"), Object.keys(retentions)],
    ["Task spec.gate.review", enumAt("Task", "spec", "gate", "review"), Object.keys(reviews)],
    ["Playbook gate.review", enumAt("Playbook", "$defs/gate", "review"), Object.keys(reviews)],
    ["Playbook stage.approval", enumAt("Playbook", "$defs/stage", "approval"), Object.keys(approvals)],
    ["AgentPool agent.profile", enumAt("AgentPool", "$defs/agent", "profile"), [...AGENT_PROFILE_NAMES]],
  ])("%s", (_label, schemaEnum, typeMembers) => {
    expect(schemaEnum).toEqual([...typeMembers].sort());
  });

  it("apiVersion and kind are the schemas' consts", () => {
    for (const kind of MANIFEST_KINDS) {
      const properties = SCHEMAS[kind].properties as Record<string, JsonSchema>;
      expect([properties.apiVersion!.const, properties.kind!.const]).toEqual([API_VERSION, kind]);
    }
  });
});
