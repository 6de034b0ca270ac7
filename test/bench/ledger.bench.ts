/**
 * The ledger as it grows: `gaffer status`, `gaffer log --since 1h` and
 * `gaffer report --json` on ledgers of 100k and 1M generated events (the mix
 * a busy team writes, spread over four weeks): wall time and peak RSS of the
 * real CLI process, read from /usr/bin/time (the median of three runs, the
 * largest peak RSS of them). A command that does not finish
 * within LIMIT_S is reported as -1. The ledger is generated at the schema
 * before the report's rollups (0018) and then opened, so `upgrade*Seconds`
 * is migration 0019's backfill of that history. Start-up: `gaffer
 * --version` against bare `node -e 0`.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { packagePath } from "../../controller/paths.js";
import { LEDGER_FILE, openLedger } from "../../state/ledger.js";
import { MIGRATIONS } from "../../state/migrations/index.js";
import { benchControlDir } from "./controller-fixture.js";
import { growLedger } from "./ledger-scale.js";

const SIZES = (process.env.GAFFER_BENCH_LEDGER_SIZES ?? "100000,1000000").split(",").map(Number);
const LIMIT_S = Number(process.env.GAFFER_BENCH_LEDGER_LIMIT_S ?? 300);
const TIME = "/usr/bin/time";

/** Seconds, CPU seconds (user + system: less swayed by other work on the cores) and peak RSS (MB) of one CLI run, or -1s past the limit. */
async function measure(dir: string | null, args: readonly string[]): Promise<{ seconds: number; cpuSeconds: number; rssMb: number }> {
  const argv = dir === null ? args : [packagePath("controller", "gaffer.js"), ...args, "--dir", dir];
  const run = await execa(TIME, ["-f", "%e %M %U %S", process.execPath, ...argv], { reject: false, timeout: LIMIT_S * 1000, env: { ...process.env, TMUX: "" } });
  if (run.timedOut) return { seconds: -1, cpuSeconds: -1, rssMb: -1 };
  if (run.exitCode !== 0) throw new Error(`bench: gaffer ${args.join(" ")} failed (exit ${run.exitCode}): ${run.stderr.slice(-500)}`);
  const [seconds, kb, user, system] = run.stderr.trim().split("\n").at(-1)!.split(" ").map(Number);
  return { seconds: seconds!, cpuSeconds: Math.round((user! + system!) * 100) / 100, rssMb: Math.round(kb! / 102.4) / 10 };
}

/** Ledger figures per size: generation time, and each read command's time and peak RSS. */
export async function benchLedger(): Promise<Record<string, number>> {
  if (!existsSync(TIME)) throw new Error(`bench: ${TIME} is needed for peak RSS (apt-get install time)`);
  const figures: Record<string, number> = {};
  for (const [name, argv] of [["bareNode", ["-e", "0"]], ["version", [packagePath("controller", "gaffer.js"), "--version"]]] as const) {
    const runs = [];
    for (let i = 0; i < 5; i++) runs.push(await measure(null, argv));
    figures[`${name}MedianSeconds`] = runs.map((r) => r.seconds).sort((a, b) => a - b)[2]!;
    figures[`${name}MedianCpuSeconds`] = runs.map((r) => r.cpuSeconds).sort((a, b) => a - b)[2]!;
  }
  const beforeRollups = Object.fromEntries(Object.entries(MIGRATIONS).filter(([name]) => name < "0019"));
  for (const size of SIZES) {
    const root = mkdtempSync(join(tmpdir(), "gaffer-bench-ledger-"));
    try {
      const { dir } = benchControlDir(root, { capacity: 1, tasks: [] });
      await (await openLedger(join(dir, LEDGER_FILE), { migrations: beforeRollups })).destroy(); // the schema before the rollups
      const grown = performance.now();
      growLedger(join(dir, LEDGER_FILE), size);
      const label = size >= 1_000_000 ? `${size / 1_000_000}M` : `${size / 1000}k`;
      figures[`grow${label}Seconds`] = Math.round((performance.now() - grown) / 100) / 10;
      const upgraded = performance.now();
      await (await openLedger(join(dir, LEDGER_FILE))).destroy();
      figures[`upgrade${label}Seconds`] = Math.round((performance.now() - upgraded) / 100) / 10;
      for (const [name, args] of [["status", ["status"]], ["log1h", ["log", "--since", "1h"]], ["reportJson", ["report", "--json"]]] as const) {
        // The median of three runs (the first one also fills the control dir's manifest cache); the largest peak RSS.
        const runs = [await measure(dir, args), await measure(dir, args), await measure(dir, args)];
        const median = (of: (r: (typeof runs)[number]) => number): number => runs.map(of).sort((a, b) => a - b)[1]!;
        figures[`${name}${label}Seconds`] = median((r) => r.seconds);
        figures[`${name}${label}CpuSeconds`] = median((r) => r.cpuSeconds);
        figures[`${name}${label}PeakRssMb`] = Math.max(...runs.map((r) => r.rssMb));
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }
  return figures;
}
