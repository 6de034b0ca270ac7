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

  it("session rows are written only by state/sessions.repository.ts, and its writers are called only by the session machine's persistence (controller/sessions/session-store.ts)", () => {
    const tableWriters = all.filter((s) => /(updateTable|insertInto|deleteFrom)\("sessions"\)|(update|insert into|delete from)\s+sessions\b/i.test(s.text)).map((s) => s.file);
    expect(tableWriters).toEqual(["state/sessions.repository.ts"]);
    const WRITERS = ["insertSession", "writeSession"];
    const callers = all.filter((s) => importedFrom(s.text, "sessions.repository.js").some((n) => WRITERS.includes(n))).map((s) => s.file);
    expect(callers).toEqual(["controller/sessions/session-store.ts"]);
  });

  it("only the session machine decides a session state: the store writes its decisions, and nothing else names a new state or keeps its own list of states", () => {
    const SESSION_ONLY = ["Starting", "Idle", "Waiting", "Crashed", "Restarting", "Stuck", "Backoff", "Closed"];
    const STATES = `(?:${[...SESSION_ONLY, "Running", "Failed"].join("|")})`;
    const machine = ["controller/machines/session.machine.ts", "controller/machines/session-lifecycle.ts"];
    // A list of two or more session states (one of them a session-only name): a second definition of "live" or "open".
    const list = new RegExp(`\\[\\s*"${STATES}"(?:\\s*,\\s*"${STATES}")+`, "g");
    const lists = all.filter((s) => !machine.includes(s.file) && !s.file.startsWith("state/migrations/")).flatMap((s) =>
      [...s.text.matchAll(list)].filter((m) => SESSION_ONLY.some((n) => m[0].includes(`"${n}"`))).map((m) => `${s.file}: ${m[0]}`));
    expect(lists).toEqual([]);
    // The state column is set from the machine's decision only (lifecyclePatch), never from a literal.
    const literalWrites = all.filter((s) => s.file !== "state/sessions.repository.ts" && new RegExp(`\\bstate:\\s*"${STATES}"`).test(s.text) && (s.file.startsWith("controller/sessions/") || importedFrom(s.text, "session-store.js").length > 0)).map((s) => s.file);
    expect(literalWrites).toEqual([]);
    const machineUsers = all.filter((s) => importedFrom(s.text, "session-lifecycle.js").includes("decideSession")).map((s) => s.file).sort();
    expect(machineUsers).toEqual(["controller/sessions/session-store.ts"]);
  });

  it("task rows are written only by state/task-phase.repository.ts, and its writer is called only by the task machine's store (controller/tasks/task-store.ts): every verb sends the machine an event", () => {
    const taskWriters = all.filter((s) => /(updateTable|insertInto|deleteFrom)\("tasks"\)|(update|insert into|delete from)\s+tasks\b/i.test(s.text)).map((s) => s.file).sort();
    expect(taskWriters).toEqual(["state/task-phase.repository.ts"]);
    const callers = all.filter((s) => importedFrom(s.text, "task-phase.repository.js").includes("writeTaskState")).map((s) => s.file);
    expect(callers).toEqual(["controller/tasks/task-store.ts"]);
    // The store decides with the machine: nothing else resolves or steps a task machine to write its decision.
    const machineSteppers = all.filter((s) => /transition\(taskMachine/.test(s.text)).map((s) => s.file);
    expect(machineSteppers).toEqual(["controller/tasks/task-store.ts"]);
    const stageWriters = all.filter((s) => /(updateTable|insertInto)\("stages"\)|(update|insert into)\s+stages\b/i.test(s.text)).map((s) => s.file).sort();
    expect(stageWriters).toEqual(["state/controller.repository.ts"]);
  });

  it("the attempt limits live in the task machine: no other module compares attempt counters with their policy limit", () => {
    const comparison = /ttempts\s*(\+ 1\s*)?(>=|<=|<|>)\s|(>=|<=|<|>)\s*[a-zA-Z.]*max(Gate|Resolve)Attempts/;
    expect(all.filter((s) => s.file !== "controller/machines/task.machine.ts" && comparison.test(s.text)).map((s) => s.file)).toEqual([]);
  });
});
