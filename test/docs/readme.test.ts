import { readFileSync } from "node:fs";
import { expect, test } from "vitest";
import { buildProgram } from "../../controller/cli/program.js";
import { renderReadme } from "../../controller/docs/reference.js";
import { packagePath } from "../../controller/paths.js";

test("the README's manifest and CLI references are what the schemas and the command tree say (run `npm run docs`)", async () => {
  const readme = readFileSync(packagePath("README.md"), "utf8");
  expect(renderReadme(readme, await buildProgram())).toBe(readme);
  expect(readme).toContain("| `spec.policy.requiredApprovals` | integer |");
  expect(readme).toContain("npm ci && npm run demo");
  expect(readme).toMatch(/^npm test\s/m);
});
