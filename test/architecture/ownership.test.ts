/**
 * Who may write what: each piece of state has one owner a maintainer can
 * find. Read from the sources (imports and queries), so a new writer
 * elsewhere fails here with its file named.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

function sources(): { file: string; text: string }[] {
  return ["controller", "state"].flatMap((top) =>
    readdirSync(join(ROOT, top), { recursive: true })
      .map(String)
      .filter((f) => f.endsWith(".ts"))
      .map((f) => ({ file: relative(ROOT, join(ROOT, top, f)), text: readFileSync(join(ROOT, top, f), "utf8") })),
  );
}

/** The names a file imports from a module path ending in `module`. */
function importedFrom(text: string, module: string): string[] {
  return [...text.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*"([^"]+)"/g)].filter((m) => m[2]!.endsWith(module)).flatMap((m) => m[1]!.split(",").map((n) => n.trim().replace(/^type\s+/, "")).filter((n) => n !== ""));
}

describe("one owner per state", () => {
  const all = sources();

  it("session rows are written only by state/sessions.repository.ts, and its writers are called only by the session service (controller/sessions/)", () => {
    const tableWriters = all.filter((s) => /(updateTable|insertInto|deleteFrom)\("sessions"\)|(update|insert into|delete from)\s+sessions\b/i.test(s.text)).map((s) => s.file);
    expect(tableWriters).toEqual(["state/sessions.repository.ts"]);
    const WRITERS = ["insertSession", "updateSession", "recordObservation", "recordStall"];
    const callers = all.filter((s) => !s.file.startsWith("controller/sessions/") && importedFrom(s.text, "sessions.repository.js").some((n) => WRITERS.includes(n))).map((s) => s.file);
    expect(callers).toEqual([]);
  });

  it("task and stage rows are written only by two repositories: the controller's machine snapshots and the task-phase writer the CLI/MCP verbs share", () => {
    // NOTE: two writers of task phases remain (the controller's machines, and `gaffer merge`/MCP through
    // state/task-phase.repository.ts); making the task machine the single owner is the runtime issue's open item.
    const writers = all.filter((s) => /(updateTable|insertInto)\("(tasks|stages)"\)|(update|insert into)\s+(tasks|stages)\b/i.test(s.text)).map((s) => s.file).sort();
    expect(writers).toEqual(["state/controller.repository.ts", "state/task-phase.repository.ts"]);
  });
});
