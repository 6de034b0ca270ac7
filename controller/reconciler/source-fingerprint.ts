/**
 * A stat fingerprint of what the controller reads each pass from the control
 * repo (the manifests' files, git's HEAD, branch ref and index): unchanged,
 * a periodic pass need not read, parse and validate the manifests again nor
 * ask git, which cost two processes and a YAML parse every 30 s of an idle
 * controller. As git does for its index, a file changed within RACY_MS of
 * the look is not trusted (its next change could keep the same times).
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { runGit } from "../governance/git-cli.js";
import { MANIFESTS_DIR } from "../manifest/load.js";

const RACY_MS = 2000;

/** Where git keeps the control repo's HEAD and index (gitDir) and its refs (commonDir). */
export interface GitPlaces {
  readonly gitDir: string;
  readonly commonDir: string;
}

/** The control repo's git directories, or null when `dir` is not in a git repo. */
export async function gitPlacesOf(dir: string): Promise<GitPlaces | null> {
  const out = await runGit(dir, ["rev-parse", "--absolute-git-dir", "--git-common-dir"], { check: false });
  const [gitDir, common] = out.exitCode === 0 ? out.stdout.trim().split("\n") : [];
  if (gitDir === undefined || common === undefined) return null;
  return { gitDir, commonDir: isAbsolute(common) ? common : resolve(dir, common) };
}

function statLine(path: string, now: number): string | null {
  try {
    const s = statSync(path);
    if (now - s.mtimeMs < RACY_MS || now - s.ctimeMs < RACY_MS) return null;
    return `${path}\0${s.ino}\0${s.size}\0${s.mtimeMs}\0${s.ctimeMs}`;
  } catch {
    return `${path}\0-`;
  }
}

/** The branch ref HEAD names (a loose ref file), if any. */
function headRef(places: GitPlaces): string[] {
  try {
    const head = readFileSync(join(places.gitDir, "HEAD"), "utf8").trim();
    return head.startsWith("ref: ") ? [join(places.commonDir, head.slice(5))] : [];
  } catch {
    return [];
  }
}

/**
 * The fingerprint, or null when it cannot vouch for anything (a file changed
 * moments ago, an unreadable manifests/): then the caller reads everything.
 */
export function sourceFingerprint(dir: string, places: GitPlaces, now = Date.now()): string | null {
  const root = join(dir, MANIFESTS_DIR);
  let entries: string[];
  try {
    entries = readdirSync(root, { recursive: true, encoding: "utf8" }).sort();
  } catch {
    return null;
  }
  const paths = [root, ...entries.map((e) => join(root, e)), join(places.gitDir, "HEAD"), join(places.gitDir, "index"), join(places.commonDir, "packed-refs"), ...headRef(places)];
  const lines: string[] = [];
  for (const path of paths) {
    const line = statLine(path, now);
    if (line === null) return null;
    lines.push(line);
  }
  return lines.join("\n");
}
