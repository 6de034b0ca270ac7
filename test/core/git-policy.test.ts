import { describe, expect, it } from "vitest";
import { denylistGlobs, matchSecret } from "../../controller/core/git-policy.js";
import { DEFAULT_SECRETS_DENYLIST } from "../../controller/core/project-config.js";

/** [pattern, path, matches?]: the gitignore-like semantics README.md states for policy.secretsDenylist. */
const CASES: ReadonlyArray<readonly [string, string, boolean]> = [
  // a pattern without "/" matches the name at any depth
  [".env", ".env", true],
  [".env", "app/config/.env", true],
  [".env", "app/.envrc", false],
  ["*.pem", "certs/deep/server.pem", true],
  ["*.pem", "server.pem.txt", false],
  // "**/" also matches at the root
  ["**/.env", ".env", true],
  ["**/.env", "a/b/.env", true],
  // braces and classes
  ["*.{pem,key}", "tls/site.key", true],
  ["*.{pem,key}", "tls/site.pem", true],
  ["*.{pem,key}", "tls/site.crt", false],
  ["id_[rd]sa", "home/.ssh/id_rsa", true],
  ["id_[rd]sa", "id_dsa", true],
  ["id_[rd]sa", "id_ecdsa", false],
  // dotfiles and dot directories are matched like any other name
  ["*.key", ".ssh/.hidden.key", true],
  ["secrets/**", "secrets/.aws/credentials", true],
  // a pattern with "/" is anchored at the repo root
  ["config/*.json", "config/prod.json", true],
  ["config/*.json", "app/config/prod.json", false],
  ["config/*.json", "config/sub/prod.json", false],
  ["/.env", ".env", true],
  ["/.env", "app/.env", false],
  // "*" and "?" stay inside one path segment; "**" crosses them
  ["config/?.json", "config/a.json", true],
  ["config/?.json", "config/ab.json", false],
  ["docs/**/*.pem", "docs/a/b/c.pem", true],
  ["docs/**/*.pem", "docs/c.pem", true],
  // a matched directory covers everything under it; a trailing "/" names a directory
  ["private", "private/notes.txt", true],
  ["private/", "src/private/deep/notes.txt", true],
  ["private/", "privateer.txt", false],
  // "./" in a path is the repo root
  [".env", "./.env", true],
];

describe("matchSecret (picomatch, gitignore-like)", () => {
  it.each(CASES)("%s against %s -> %s", (pattern, path, expected) => {
    expect(matchSecret(path, [pattern])).toBe(expected ? pattern : null);
  });

  it("returns the first pattern of the list that matches", () => {
    expect(matchSecret("keys/id_rsa.pub", ["*.pem", "id_rsa*", "keys/**"])).toBe("id_rsa*");
  });

  it("the default denylist catches the usual secrets at any depth and leaves source alone", () => {
    const hit = (path: string): string | null => matchSecret(path, DEFAULT_SECRETS_DENYLIST);
    expect([".env", "svc/.env.production", "a/b/tls.pem", "x.key", "home/id_ed25519.pub", "c.p12"].map(hit)).toEqual([".env", ".env.*", "*.pem", "*.key", "id_ed25519*", "*.p12"]);
    expect(["src/env.ts", "README.md", "keys.ts", "docs/pem.md"].map(hit)).toEqual([null, null, null, null]);
  });

  it("expands an entry into the globs it stands for", () => {
    expect(denylistGlobs(".env")).toEqual(["**/.env", "**/.env/**"]);
    expect(denylistGlobs("/config/*.json")).toEqual(["config/*.json", "config/*.json/**"]);
    expect(denylistGlobs("private/")).toEqual(["**/private", "**/private/**"]);
  });
});
