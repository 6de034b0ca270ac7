import { existsSync, realpathSync } from "node:fs";
import { delimiter, join } from "node:path";
import { packagePath } from "../paths.js";

/**
 * How a user runs this gaffer from a shell: `gaffer` when that name on PATH
 * is this install (e.g. after `npm link`), else `node /abs/controller/gaffer.js`,
 * so printed hints work exactly as printed.
 */
export function gafferInvocation(path = process.env.PATH ?? ""): string {
  const bin = packagePath("controller", "gaffer.js");
  const real = realpathSync(bin);
  for (const dir of path.split(delimiter).filter((d) => d !== "")) {
    const candidate = join(dir, "gaffer");
    try {
      if (existsSync(candidate) && realpathSync(candidate) === real) return "gaffer";
    } catch {
      // an unreadable PATH entry is not this gaffer
    }
  }
  return `node ${bin}`;
}
