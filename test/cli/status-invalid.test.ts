import { writeFileSync } from "node:fs";
import { join } from "node:path";
import pino from "pino";
import { expect, test } from "vitest";
import { runController } from "../../controller/reconciler/run-controller.js";
import { runGaffer } from "../helpers/cli.js";
import { controlDir } from "../helpers/control-dir.js";
import { instantEffects } from "../helpers/instant-effects.js";

test("status with invalid manifests shows the last applied set with the errors (file:line:col) on top", async () => {
  const { dir } = controlDir({ tasks: [{ name: "first" }, { name: "second" }] });
  await runController({ dir, logger: pino({ level: "silent" }), effects: instantEffects, once: true });
  writeFileSync(join(dir, "manifests", "tasks.yaml"), "apiVersion: gaffer/v1\nkind: Task\nmetadata: {name: third}\nspec: {stage: nowhere, role: builder, prompt: p}\n");

  const text = await runGaffer(["status", "--dir", dir]);
  expect(text.stderr).toBe("");
  expect(text.exitCode).toBe(0);
  const lines = text.stdout.split("\n");
  expect(lines[1]).toBe('  manifests/tasks.yaml:4:15: Task/third: unknown stage "nowhere" (known: build)');
  expect(text.stdout).toMatch(/^first +build +Merged /m);
  expect(text.stdout).toMatch(/^second +build +Merged /m);
  expect(text.stdout).not.toMatch(/^third /m);
  expect(text.stdout).toMatch(/^ {2}- the manifests are invalid \(1 problem\(s\), listed above\): shown is the last applied set \(generation [0-9a-f]{16}\)/m);

  const json = await runGaffer(["status", "--json", "--dir", dir]);
  const view = JSON.parse(json.stdout) as { controller: { manifestErrors: string[] }; tasks: { name: string; phase: string }[] };
  expect(view.controller.manifestErrors).toEqual(['manifests/tasks.yaml:4:15: Task/third: unknown stage "nowhere" (known: build)']);
  expect(view.tasks.map((t) => `${t.name}:${t.phase}`)).toEqual(["first:Merged", "second:Merged"]);
}, 90_000);

test("status with invalid manifests and nothing ever applied is MANIFEST_INVALID", async () => {
  const { dir } = controlDir({ tasks: [{ name: "first" }] });
  writeFileSync(join(dir, "manifests", "tasks.yaml"), "kind: [\n");
  const result = await runGaffer(["status", "--dir", dir]);
  expect(result.exitCode).toBe(1);
  expect(result.stderr).toMatch(/^error: MANIFEST_INVALID: 1 problem in manifests/);
}, 30_000);
