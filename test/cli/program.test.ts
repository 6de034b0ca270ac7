/**
 * The command tree is loaded a group at a time: a command's module is
 * imported only when that command runs, `--version` loads none, and the
 * help and an unknown command's error list every command as before.
 */
import { readFileSync } from "node:fs";
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { buildProgram, buildProgramFor, COMMAND_GROUPS } from "../../controller/cli/program.js";
import { packagePath } from "../../controller/paths.js";
import { runGaffer } from "../helpers/cli.js";

const names = (program: Command): string[] => program.commands.map((c) => c.name());

describe("the lazily loaded command tree", () => {
  it("each group registers exactly the commands it is listed under, and the full tree is every group in order", async () => {
    for (const group of COMMAND_GROUPS) {
      const program = new Command();
      (await group.load())(program);
      expect(names(program)).toEqual(group.names);
    }
    expect(names(await buildProgram())).toEqual([...new Set(COMMAND_GROUPS.flatMap((g) => g.names))]);
  });

  it("builds only what the arguments name: none for --version, one group per command, every one otherwise", async () => {
    expect(names(await buildProgramFor(["--version"]))).toEqual([]);
    expect(names(await buildProgramFor(["status", "--json"]))).toEqual(["status"]);
    expect(names(await buildProgramFor(["help", "report"]))).toEqual(["report"]);
    const ledger = await buildProgramFor(["ledger", "stats"]);
    expect(names(ledger)).toEqual(["ledger"]);
    expect(names(ledger.commands[0]!)).toEqual(["stats", "compact", "migrate", "rebuild"]);
    const all = names(await buildProgram());
    for (const argv of [["nosuch"], ["--help"], ["-h"], ["--version", "extra"]]) expect(names(await buildProgramFor(argv))).toEqual(all);
  });

  it("the real CLI: --version, a command's own help, the full help, and an unknown command", async () => {
    const version = (JSON.parse(readFileSync(packagePath("package.json"), "utf8")) as { version: string }).version;
    const printed = await runGaffer(["--version"]);
    expect([printed.exitCode, printed.stdout]).toEqual([0, version]);
    const help = await runGaffer(["help", "report"]);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain("Usage: gaffer report [options]");
    expect(help.stdout).toContain("--html <file>");
    const unknown = await runGaffer(["nosuch"]);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain("error: unknown command 'nosuch'");
    for (const name of new Set(COMMAND_GROUPS.flatMap((g) => g.names))) expect(unknown.stderr).toMatch(new RegExp(`^  ${name} `, "m"));
  });
});
