/**
 * The import graph of the TypeScript sources (controller/, state/), read from
 * their import and export statements: layers point one way, entry points
 * (cli/, mcp/, the controller's run loop) are the only composition roots,
 * and git runs through its adapters. A new edge that breaks a rule fails
 * here with the importing file named.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** One import of a source file: the module as written, the file it resolves to (relative ones), and whether only types come in. */
interface Edge {
  readonly from: string;
  readonly spec: string;
  readonly to: string | null;
  readonly typeOnly: boolean;
}

const STATEMENT = /^\s*(import|export)\s+([^;]*?)\s*from\s*"([^"]+)"|^\s*import\s*"([^"]+)"|import\(\s*"([^"]+)"\s*\)/gm;

/** Whether an import/export clause brings in types only (`import type {..}`, or `{ type A, type B }`). */
function isTypeOnly(clause: string): boolean {
  if (/^type\s/.test(clause)) return true;
  const braces = /^\{([^}]*)\}$/.exec(clause.trim());
  if (braces === null) return false;
  const names = braces[1]!.split(",").map((n) => n.trim()).filter((n) => n !== "");
  return names.length > 0 && names.every((n) => n.startsWith("type "));
}

function readGraph(): Edge[] {
  const files = ["controller", "state"].flatMap((top) => readdirSync(join(ROOT, top), { recursive: true }).map(String).filter((f) => f.endsWith(".ts")).map((f) => join(top, f)));
  return files.flatMap((from) =>
    [...readFileSync(join(ROOT, from), "utf8").matchAll(STATEMENT)].map((m): Edge => {
      const spec = m[3] ?? m[4] ?? m[5]!;
      const target = spec.startsWith(".") ? normalize(join(dirname(from), spec)).replace(/\.js$/, ".ts") : null;
      return { from, spec, to: target !== null && existsSync(join(ROOT, target)) ? target : null, typeOnly: m[2] !== undefined && isTypeOnly(m[2]) };
    }),
  );
}

/** Strongly connected components of more than one file (import cycles), each sorted. */
function cycles(edges: readonly Edge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) if (e.to !== null) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (stack.includes(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    for (let w = stack.pop()!; ; w = stack.pop()!) {
      component.push(w);
      if (w === v) break;
    }
    if (component.length > 1) found.push(component.sort());
  };
  for (const v of next.keys()) if (!index.has(v)) visit(v);
  return found;
}

const under = (dir: string) => (file: string | null): boolean => file !== null && file.startsWith(dir);
const show = (edges: readonly Edge[]): string[] => edges.map((e) => `${e.from} -> ${e.to ?? e.spec}`).sort();

describe("the import graph", () => {
  const graph = readGraph();

  it("is read from the sources (a sanity check of the parser)", () => {
    expect(graph.length).toBeGreaterThan(500);
    expect(graph).toContainEqual({ from: "controller/sessions/health.ts", spec: "./send-command.js", to: "controller/sessions/send-command.ts", typeOnly: false });
    expect(graph).toContainEqual({ from: "controller/sessions/mark-crashed.ts", spec: "../../state/sessions.repository.js", to: "state/sessions.repository.ts", typeOnly: true });
  });

  it("has no import cycle at run time (sessions/health.ts <-> sessions/send-command.ts is gone); type-only imports erase at build and may point back", () => {
    expect(cycles(graph.filter((e) => !e.typeOnly))).toEqual([]);
  });

  it("mcp/ and report/ never import cli/: both call the application layer (app/), as cli/ does", () => {
    expect(show(graph.filter((e) => (under("controller/mcp/")(e.from) || under("controller/report/")(e.from)) && under("controller/cli/")(e.to)))).toEqual([]);
  });

  it("the pure core (core/, machines/) imports no adapter, entry point or ledger", () => {
    const outward = ["controller/adapters/", "controller/cli/", "controller/mcp/", "controller/reconciler/", "state/"];
    const pure = graph.filter((e) => (under("controller/core/")(e.from) || under("controller/machines/")(e.from)) && !e.typeOnly && outward.some((d) => under(d)(e.to)));
    expect(show(pure)).toEqual([]);
  });

  it("state/ (the ledger) imports nothing from controller/: its errors live in state/errors.ts, and what it records is typed by the shapes it stores", () => {
    expect(show(graph.filter((e) => under("state/")(e.from) && under("controller/")(e.to)))).toEqual([]);
    expect(graph.filter((e) => under("state/")(e.from) && e.spec.includes("controller/")).map((e) => `${e.from} -> ${e.spec}`)).toEqual([]);
  });

  it("adapters (git, tmux, the watcher, the clock, the logger) are built only at the entry points (cli/, mcp/, app/ contexts, run-controller.ts, demo/): everything below gets them through ports", () => {
    const ROOTS = ["controller/cli/", "controller/mcp/", "controller/demo/", "controller/adapters/", "controller/app/contexts.ts", "controller/app/host-world.ts", "controller/reconciler/run-controller.ts", "controller/main.ts"];
    const ADAPTER = /new (GitCli|TmuxAdapter|WatchedTmux)\(|\b(watchDirs|chokidarWatcher|systemClock|createLogger)\(/;
    const builders = [...new Set(graph.map((e) => e.from))]
      .filter((f) => !ROOTS.some((r) => f.startsWith(r)) && ADAPTER.test(readFileSync(join(ROOT, f), "utf8")))
      .sort();
    expect(builders).toEqual([]);
    // The controller's timers and watcher are ports (Clock, Watcher): nothing below the entry points schedules the loop itself.
    expect(readFileSync(join(ROOT, "controller/reconciler/run-controller.ts"), "utf8")).not.toMatch(/\bsetInterval\(|\bwatchDirs\(/);
  });

  it("git runs through its adapters: execa is imported for git only by adapters/, governance/git-cli.ts and the tools that build repos (init, demo)", () => {
    const RUNS_GIT = ["controller/governance/git-cli.ts", "controller/cli/init.command.ts", "controller/demo/demo-repos.ts"];
    const gitCallers = graph
      .filter((e) => e.spec === "execa" && !under("controller/adapters/")(e.from) && !RUNS_GIT.includes(e.from))
      .filter((e) => /execa\(\s*"git"/.test(readFileSync(join(ROOT, e.from), "utf8")))
      .map((e) => e.from);
    expect(gitCallers).toEqual([]);
  });
});
