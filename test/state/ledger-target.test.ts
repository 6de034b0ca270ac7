import { describe, expect, test } from "vitest";
import { ledgerTargetOf } from "../../controller/manifest/ledger-location.js";
import { redactUrl, resolveLedgerTarget } from "../../state/ledger-target.js";
import { runGaffer } from "../helpers/cli.js";
import { controlDir } from "../helpers/control-dir.js";

describe("which ledger a control dir uses", () => {
  test("SQLite in .gaffer/ by default; spec.ledger.url selects PostgreSQL; GAFFER_LEDGER_URL wins over both", () => {
    expect(resolveLedgerTarget("/ctl", undefined, {})).toEqual({ kind: "sqlite", file: "/ctl/.gaffer/ledger.sqlite", display: "/ctl/.gaffer/ledger.sqlite" });
    expect(resolveLedgerTarget("/ctl", "postgres://gaffer@db:5432/proj", {})).toEqual({ kind: "postgres", url: "postgres://gaffer@db:5432/proj", display: "postgres://gaffer@db:5432/proj" });
    const fromEnv = resolveLedgerTarget("/ctl", "postgres://gaffer@db:5432/proj", { GAFFER_LEDGER_URL: "postgresql://ci:s3cret@127.0.0.1:5433/ci" });
    expect(fromEnv).toEqual({ kind: "postgres", url: "postgresql://ci:s3cret@127.0.0.1:5433/ci", display: "postgresql://ci:***@127.0.0.1:5433/ci" });
  });

  test("a URL that cannot name PostgreSQL is refused, never a silent fall back to SQLite (the password never shown)", () => {
    expect(() => resolveLedgerTarget("/ctl", undefined, { GAFFER_LEDGER_URL: "mysql://u:pw@h/db" })).toThrow('GAFFER_LEDGER_URL "mysql://u:***@h/db" is not a PostgreSQL URL: write postgres://USER@HOST:PORT/DATABASE');
    expect(() => resolveLedgerTarget("/ctl", "postgres:///db", {})).toThrow('spec.ledger.url "postgres:///db" names no host: write postgres://USER@HOST:PORT/DATABASE');
    expect(redactUrl("postgres://a:b%40c@h:1/d?sslmode=require")).toBe("postgres://a:***@h:1/d?sslmode=require");
  });

  test("the manifest's URL is read even while another manifest is invalid (status and hooks must still reach the ledger)", async () => {
    const ctl = controlDir({ project: { ledger: { url: "postgres://gaffer@db.example.com/proj" } }, tasks: [{ name: "t1", stage: "missing-stage" }] });
    expect(await ledgerTargetOf(ctl.dir, {})).toEqual({ kind: "postgres", url: "postgres://gaffer@db.example.com/proj", display: "postgres://gaffer@db.example.com/proj" });
    expect(await ledgerTargetOf(ctl.dir, { GAFFER_LEDGER_URL: "postgres://x@y/z" })).toMatchObject({ url: "postgres://x@y/z" });
    expect((await ledgerTargetOf(controlDir().dir, {})).kind).toBe("sqlite");
  });
});

describe("gaffer validate and spec.ledger.url", () => {
  test("a password in the manifest's URL is refused at file:line:col, redacted, with where it belongs instead", async () => {
    const ctl = controlDir({ project: { ledger: { url: "postgres://gaffer:hunter2@db.example.com:5432/gaffer" } }, tasks: [{ name: "t1" }] });
    const result = await runGaffer(["validate", "--dir", ctl.dir, "--json"]);
    expect(result.exitCode).toBe(1);
    const issues = JSON.parse(result.stdout).issues as { code: string; file: string; line: number; column: number; pointer: string; message: string }[];
    expect(issues).toEqual([
      expect.objectContaining({
        code: "LEDGER_SECRET_IN_MANIFEST",
        file: "manifests/project.yaml",
        pointer: "/spec/ledger/url",
        message: 'spec.ledger.url "postgres://gaffer:***@db.example.com:5432/gaffer" holds a password, and manifests are committed; remove it from the URL and give it through the environment (PGPASSWORD, ~/.pgpass, or the whole URL in GAFFER_LEDGER_URL)',
      }),
    ]);
    expect(issues[0]!.line).toBeGreaterThan(0);
    expect(result.stdout).not.toContain("hunter2");
  });

  test("a URL without a password validates", async () => {
    const ctl = controlDir({ project: { ledger: { url: "postgres://gaffer@db.example.com:5432/gaffer" } }, tasks: [{ name: "t1" }] });
    const result = await runGaffer(["validate", "--dir", ctl.dir]);
    expect(result.stdout).toContain("manifests valid");
  });
});
