// `npm run docs`: regenerates the README's manifest and CLI references.
import { readFileSync, writeFileSync } from "node:fs";
import { buildProgram } from "../cli/program.js";
import { packagePath } from "../paths.js";
import { renderReadme } from "./reference.js";

const file = packagePath("README.md");
const before = readFileSync(file, "utf8");
const after = renderReadme(before, await buildProgram());
if (after !== before) writeFileSync(file, after);
process.stdout.write(after === before ? "README.md references are up to date\n" : "README.md references regenerated\n");
