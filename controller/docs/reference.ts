import type { Command } from "commander";
import { MANIFEST_KINDS } from "../core/manifest-types.js";
import { readSchemas, SCHEMA_FILES, type JsonSchema } from "../manifest/schemas.js";

/**
 * Generates the README's manifest and CLI references from the schemas'
 * descriptions and the command tree, so the docs cannot drift from the code
 * (a test compares the README with this output).
 */

interface Property {
  readonly path: string;
  readonly type: string;
  readonly required: boolean;
  readonly defaultValue: string;
  readonly description: string;
}

function typeOf(schema: JsonSchema): string {
  if (schema.const !== undefined) return `\`${JSON.stringify(schema.const)}\``;
  if (Array.isArray(schema.enum)) return (schema.enum as unknown[]).map((v) => `\`${String(v)}\``).join(" \\| ");
  if (schema.type === "array") return `list of ${typeOf((schema.items ?? {}) as JsonSchema)}`;
  if (schema.type === "object" && schema.additionalProperties !== undefined && typeof schema.additionalProperties === "object" && schema.properties === undefined) return `map of ${typeOf(schema.additionalProperties as JsonSchema)}`;
  return String(schema.type ?? "any");
}

function resolveRef(root: JsonSchema, schema: JsonSchema): JsonSchema {
  const ref = schema.$ref;
  if (typeof ref !== "string") return schema;
  const name = ref.replace("#/$defs/", "");
  return ((root.$defs as Record<string, JsonSchema>)[name] ?? {}) as JsonSchema;
}

function walk(root: JsonSchema, schema: JsonSchema, prefix: string, out: Property[]): void {
  const s = resolveRef(root, schema);
  const props = (s.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((s.required ?? []) as string[]);
  for (const [key, raw] of Object.entries(props)) {
    const child = resolveRef(root, raw);
    const path = prefix === "" ? key : `${prefix}.${key}`;
    const description = String(raw.description ?? child.description ?? "");
    out.push({ path, type: typeOf(child), required: required.has(key), defaultValue: child.default === undefined ? "" : `\`${JSON.stringify(child.default)}\``, description });
    if (child.type === "object" && child.properties !== undefined) walk(root, child, path, out);
    const items = child.type === "array" ? resolveRef(root, (child.items ?? {}) as JsonSchema) : null;
    if (items !== null && items.type === "object" && items.properties !== undefined) walk(root, items, `${path}[]`, out);
  }
}

const cell = (text: string): string => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

export function manifestReference(): string {
  const schemas = readSchemas();
  const parts: string[] = [];
  for (const kind of MANIFEST_KINDS) {
    const schema = schemas[kind];
    const rows: Property[] = [];
    walk(schema, schema, "", rows);
    parts.push(`### ${kind} (\`schemas/${SCHEMA_FILES[kind]}\`)`, "", String(schema.description ?? ""), "", "| field | type | required | default | meaning |", "| --- | --- | --- | --- | --- |");
    for (const row of rows.filter((r) => !["apiVersion", "kind"].includes(r.path))) {
      parts.push(`| \`${row.path}\` | ${cell(row.type)} | ${row.required ? "yes" : ""} | ${cell(row.defaultValue)} | ${cell(row.description)} |`);
    }
    parts.push("");
  }
  return parts.join("\n").trimEnd();
}

export function cliReference(program: Command): string {
  const lines = ["| command | what it does |", "| --- | --- |"];
  const visit = (command: Command, prefix: string): void => {
    for (const sub of command.commands) {
      if (sub.name() === "help") continue;
      const args = sub.registeredArguments.map((a) => (a.required ? `<${a.name()}>` : `[${a.name()}]`)).join(" ");
      const options = sub.options.filter((o) => !["--dir", "--json"].includes(o.long ?? "")).map((o) => o.flags).join(" ");
      const usage = [prefix + sub.name(), args, options === "" ? "" : `[${options}]`].filter((p) => p !== "").join(" ");
      if (sub.commands.length > 0) visit(sub, `${prefix}${sub.name()} `);
      else lines.push(`| \`gaffer ${cell(usage)}\` | ${cell(sub.description())} |`);
    }
  };
  visit(program, "");
  return lines.join("\n");
}

export const MARKERS = {
  manifests: ["<!-- manifest-reference:start (generated: npm run docs) -->", "<!-- manifest-reference:end -->"],
  cli: ["<!-- cli-reference:start (generated: npm run docs) -->", "<!-- cli-reference:end -->"],
} as const;

/** The README with both generated blocks replaced by fresh output. */
export function renderReadme(readme: string, program: Command): string {
  let out = readme;
  for (const [key, body] of [["manifests", manifestReference()], ["cli", cliReference(program)]] as const) {
    const [start, end] = MARKERS[key];
    const from = out.indexOf(start);
    const to = out.indexOf(end);
    if (from === -1 || to === -1) throw new Error(`README.md lacks the ${key} reference markers`);
    out = `${out.slice(0, from + start.length)}\n${body}\n${out.slice(to)}`;
  }
  return out;
}
