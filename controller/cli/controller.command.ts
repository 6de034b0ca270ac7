import type { Command } from "commander";
import { resolve } from "node:path";
import { createLogger } from "../adapters/logger.js";
import { NotFoundError, UsageError } from "../errors.js";
import { runController } from "../reconciler/run-controller.js";
import { buildTaskEffects } from "../reconciler/task-effects.js";
import { clearPause, setPause } from "../../state/controller.repository.js";
import { describeRetry, retryTarget } from "../app/retry.js";
import { withCommon, withControlDir, type CommonOptions } from "./context.js";
import { printJson, printLine } from "./output.js";
import { systemClock } from "../adapters/clock.js";
import { chokidarWatcher } from "../adapters/watcher.js";

interface UpOptions extends CommonOptions {
  readonly once?: boolean;
  readonly resync?: string;
  readonly poll?: boolean;
}

interface PauseOptions extends CommonOptions {
  readonly all?: boolean;
  readonly reason?: string;
}

export function registerController(program: Command): void {
  withCommon(program.command("up").description("run the controller: reconcile manifests, approvals and the live world"))
    .option("--once", "run passes until nothing more can happen without a person, then exit")
    .option("--resync <ms>", "resync timer in ms", "30000")
    .option("--poll", "read panes by polling instead of tmux control-mode notifications (for a tmux whose control mode misbehaves)")
    .action(async (options: UpOptions) => {
      const resyncMs = Number(options.resync);
      if (!Number.isInteger(resyncMs) || resyncMs < 100) throw new UsageError(`--resync must be an integer >= 100 (got ${options.resync})`);
      const dir = resolve(options.dir);
      await runController({ dir, logger: createLogger(), effects: buildTaskEffects, once: options.once === true, resyncMs, clock: systemClock(), watcher: chokidarWatcher(), notifications: options.poll !== true });
    });

  for (const verb of ["pause", "resume"] as const) {
    withCommon(program.command(verb).argument("[target]", "a task or stage name").description(verb === "pause" ? "stop the controller sending anything to a task's, stage's or every session (human takeover)" : "let the controller continue; it re-reads the world first"))
      .option("--all", "the whole project")
      .option("--reason <text>", "why (recorded in the ledger)")
      .action(async (target: string | undefined, options: PauseOptions) => {
        if ((target === undefined) === (options.all !== true)) throw new UsageError(`${verb} takes a task or stage name, or --all`);
        const result = await withControlDir(options, async (ctx) => {
          const set = await ctx.loadManifests();
          let subject = "project";
          if (target !== undefined) {
            if (set.tasks.some((t) => t.metadata.name === target)) subject = `task/${target}`;
            else if (set.playbooks.some((p) => p.spec.stages.some((s) => s.name === target))) subject = `stage/${target}`;
            else throw new NotFoundError(`no task or stage named "${target}"`);
          }
          const db = await ctx.openLedger();
          const changed = verb === "pause" ? await setPause(db, subject, ctx.actor, options.reason ?? null) : await clearPause(db, subject, ctx.actor);
          return { subject, changed };
        });
        if (options.json === true) printJson({ action: verb, ...result });
        else if (!result.changed) printLine(`${result.subject} was already ${verb === "pause" ? "paused" : "running"}; nothing changed`);
        else printLine(verb === "pause" ? `paused ${result.subject}: the controller sends nothing to its sessions; attach with \`gaffer session attach ID\`, then \`gaffer resume\`` : `resumed ${result.subject}: the controller re-reads the world and continues`);
      });
  }

  withCommon(program.command("retry").argument("<target>", "a Failed task, or a stage (every Failed task of it)").description("start a new attempt of failed work: fresh session, the task's worktree, counters reset; the stage reopens"))
    .action(async (target: string, options: CommonOptions) => {
      const result = await withControlDir(options, async (ctx) => retryTarget({ db: await ctx.openLedger(), set: await ctx.loadManifests(), actor: ctx.actor }, target));
      if (options.json === true) printJson(result);
      else for (const line of describeRetry(result)) printLine(line);
    });
}
