import Database from "better-sqlite3";
import { execa } from "execa";
import { join } from "node:path";
import { expect, test } from "vitest";
import { openLedger } from "../../state/ledger.js";
import { GAFFER_BIN, runGaffer } from "../helpers/cli.js";
import { controlDir } from "../helpers/control-dir.js";

test("gaffer with no arguments prints its help on stderr and exits 2", async () => {
  const result = await runGaffer([]);
  expect(result.exitCode).toBe(2);
  expect(result.stdout).toBe("");
  expect(result.stderr).toMatch(/^Usage: gaffer \[options\] \[command\]/);
});

test("--json errors are {error: {code, message, details}} on stdout with the usual exit codes", async () => {
  const { dir } = controlDir();
  const missing = await runGaffer(["status", "--dir", join(dir, "absent"), "--json"]);
  expect(missing.exitCode).toBe(1);
  expect(JSON.parse(missing.stdout)).toEqual({ error: { code: "NOT_FOUND", message: `no manifests/ directory in ${join(dir, "absent")}; run \`gaffer init --dir ${join(dir, "absent")}\` or pass --dir`, details: {} } });
  const usage = await runGaffer(["status", "--bogus", "--json"]);
  expect(usage.exitCode).toBe(2);
  expect(JSON.parse(usage.stdout)).toEqual({ error: { code: "USAGE", message: "unknown option '--bogus'", details: {} } });
});

test("`gaffer log | head -1` ends quietly: exit 0, one line, nothing on stderr", async () => {
  const { dir } = controlDir();
  const db = await openLedger(join(dir, ".gaffer/ledger.sqlite"));
  await db.destroy();
  // Enough audit rows to overflow a pipe's buffer, so the writer meets a closed stdout.
  const raw = new Database(join(dir, ".gaffer/ledger.sqlite"));
  const insert = raw.prepare("INSERT INTO events (at, actor, action, subject, payload) VALUES (?, 'test', 'Noted', 'project', ?)");
  raw.transaction(() => {
    for (let i = 0; i < 5000; i++) insert.run(new Date(1_700_000_000_000 + i).toISOString(), JSON.stringify({ filler: "x".repeat(80), i }));
  })();
  raw.close();
  const result = await execa("bash", ["-o", "pipefail", "-c", `"${process.execPath}" "${GAFFER_BIN}" log --dir "${dir}" | head -1`], { reject: false });
  expect(result.stderr).toBe("");
  expect(result.exitCode).toBe(0);
  expect(result.stdout.split("\n")).toHaveLength(1);
  expect(result.stdout).toContain("Noted");
});

test("user mistakes get their own code and next step, never INTERNAL", async () => {
  const { dir } = controlDir();
  const report = await runGaffer(["report", "--dir", dir, "--html", "/missing/dir/x.html"]);
  expect(report.exitCode).toBe(1);
  expect(report.stderr).toBe("error: FILE_ACCESS: cannot write the HTML report to /missing/dir/x.html: it does not exist (check the path; a file to write needs an existing directory)");
  const send = await runGaffer(["session", "send", "s-none", "--file", "/nope", "--dir", dir]);
  expect(send.exitCode).toBe(1);
  expect(send.stderr).toBe("error: FILE_ACCESS: cannot read the prompt from /nope: it does not exist (check the path; a file to write needs an existing directory)");
});

test("approve names an unknown stage, and a stage that needs no approval, before writing anything", async () => {
  const { dir } = controlDir({ tasks: [{ name: "a" }] });
  const unknown = await runGaffer(["approve", "ship", "--dir", dir]);
  expect(unknown.exitCode).toBe(1);
  expect(unknown.stderr).toBe('error: NOT_FOUND: no stage "ship" in any Playbook (known: build); nothing to approve');
  const free = await runGaffer(["approve", "build", "--dir", dir]);
  expect(free.exitCode).toBe(1);
  expect(free.stderr).toBe('error: APPROVAL_NOT_REQUIRED: stage "build" needs no approval (approval: none and no needs): it starts by itself once the controller runs, so there is nothing to approve');
});
