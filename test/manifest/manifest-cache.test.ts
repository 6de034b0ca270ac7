/**
 * The control dir's cache of its last valid manifest set: keyed by the
 * build, the schemas and every manifest byte, so an edit is always
 * validated again (an invalid edit fails with its position, never the
 * cached set), and a set JSON cannot give back exactly is never kept.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import type { ManifestSet } from "../../controller/core/manifest-types.js";
import { MANIFEST_CACHE_FILE, manifestCacheKey, readCachedManifestSet, writeCachedManifestSet } from "../../controller/manifest/manifest-cache.js";
import { readManifestSources } from "../../controller/manifest/load.js";
import { runGaffer } from "../helpers/cli.js";
import { controlDir } from "../helpers/control-dir.js";
import { tempDir } from "../helpers/temp.js";

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

test("the key changes with any manifest byte, file name, build or manifests dir; no key without a build or for an unread file", () => {
  const sources = [{ file: "manifests/a.yaml", bytes: bytes("kind: Project\n") }];
  const key = manifestCacheKey(sources, "manifests", "b1");
  expect(key).toMatch(/^[0-9a-f]{64}$/);
  expect(manifestCacheKey([{ file: "manifests/a.yaml", bytes: bytes("kind: Project\n") }], "manifests", "b1")).toBe(key);
  expect(manifestCacheKey([{ file: "manifests/a.yaml", bytes: bytes("kind: Project \n") }], "manifests", "b1")).not.toBe(key);
  expect(manifestCacheKey([{ file: "manifests/b.yaml", bytes: bytes("kind: Project\n") }], "manifests", "b1")).not.toBe(key);
  expect(manifestCacheKey(sources, "manifests", "b2")).not.toBe(key);
  expect(manifestCacheKey(sources, "other", "b1")).not.toBe(key);
  expect(manifestCacheKey(sources, "manifests", null)).toBeNull();
  expect(manifestCacheKey([...sources, { file: "manifests/fifo.yaml", bytes: bytes(""), problem: { code: "FILE_NOT_REGULAR", message: "x" } }], "manifests", "b1")).toBeNull();
});

test("a set is read back only under its own key, and one JSON cannot carry exactly (an infinite number) is not kept", () => {
  const dir = tempDir();
  const set = { project: { kind: "Project", spec: { repo: "." } }, agentPools: [], playbooks: [], tasks: [], generation: "g1" } as unknown as ManifestSet;
  writeCachedManifestSet(dir, "k1", set);
  expect(readCachedManifestSet(dir, "k1")).toEqual(set);
  expect(readCachedManifestSet(dir, "k2")).toBeNull();
  expect(readCachedManifestSet(dir, null)).toBeNull();
  writeCachedManifestSet(dir, "k3", { ...set, project: { kind: "Project", spec: { repo: ".", capacity: { global: Infinity } } } } as unknown as ManifestSet);
  expect(readCachedManifestSet(dir, "k3")).toBeNull();
  expect(readCachedManifestSet(dir, "k1")).toEqual(set);
});

test("the CLI keeps the valid set beside the ledger, and a manifest edited into an invalid one fails with its position", async () => {
  const { dir } = controlDir({ tasks: [{ name: "first" }] });
  const first = await runGaffer(["status", "--json", "--dir", dir]);
  expect(first.exitCode).toBe(0);
  const cached = JSON.parse(readFileSync(join(dir, MANIFEST_CACHE_FILE), "utf8")) as { key: string; set: ManifestSet };
  expect(cached.set.tasks.map((t) => t.metadata.name)).toEqual(["first"]);
  expect(manifestCacheKey(await readManifestSources(dir), "manifests", "any-build")).not.toBeNull();

  writeFileSync(join(dir, "manifests", "tasks.yaml"), "apiVersion: gaffer/v1\nkind: Task\nmetadata: {name: third}\nspec: {stage: nowhere, role: builder, prompt: p}\n");
  const broken = await runGaffer(["status", "--dir", dir]);
  expect(broken.exitCode).toBe(1);
  expect(broken.stderr).toContain('manifests/tasks.yaml:4:15: Task/third: unknown stage "nowhere" (known: build)');
  expect(existsSync(join(dir, MANIFEST_CACHE_FILE))).toBe(true);
}, 60_000);
