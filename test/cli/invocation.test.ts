import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { gafferInvocation } from "../../controller/cli/invocation.js";
import { GAFFER_BIN } from "../helpers/cli.js";
import { tempDir } from "../helpers/temp.js";

test("printed hints say `gaffer` only when that name on PATH is this install (npm link's symlink), else node and the full path", () => {
  const linked = join(tempDir(), "bin");
  mkdirSync(linked);
  symlinkSync(GAFFER_BIN, join(linked, "gaffer"));
  expect(gafferInvocation(`/nonexistent:${linked}`)).toBe("gaffer");
  const other = join(tempDir(), "bin");
  mkdirSync(other);
  symlinkSync("/bin/true", join(other, "gaffer"));
  expect(gafferInvocation(other)).toBe(`node ${GAFFER_BIN}`);
  expect(gafferInvocation("")).toBe(`node ${GAFFER_BIN}`);
});
