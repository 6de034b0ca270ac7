import type { Command } from "commander";
import { shownManifestSet, withManifestIssues } from "../status/last-applied.js";
import { buildStatusView, type StatusView } from "../status/status-view.js";
import { withCommon, withControlDir, type CommonOptions } from "./context.js";
import { formatTable, printJson, printLine } from "./output.js";

interface StatusOptions extends CommonOptions {
  readonly watch?: boolean;
}

export function formatStatusView(view: StatusView): string {
  const c = view.controller;
  const lines = [
    `controller: ${c.running ? `running (pid ${c.pid})` : "not running"}, ${c.phase}${c.appliedRevision === null ? "" : `, applied ${c.appliedRevision.slice(0, 12)}${c.sourceDirty ? " + uncommitted manifest edits" : ""}`}`,
    ...c.manifestErrors.map((e) => `  ${e}`),
    "",
    formatTable(view.stages, [
      ["STAGE", (s) => s.name],
      ["PHASE", (s) => s.phase],
      ["APPROVAL", (s) => s.approval],
      ["TASKS", (s) => s.tasks],
      ["NOTE", (s) => s.message.slice(0, 100)],
    ]),
    "",
    formatTable(view.tasks, [
      ["TASK", (t) => t.name],
      ["STAGE", (t) => t.stage],
      ["PHASE", (t) => t.phase],
      ["SESSION", (t) => (t.session === null ? "-" : `${t.session} (${t.sessionStatus})`)],
      ["GATE", (t) => t.gate],
      ["MERGE", (t) => t.merge ?? "-"],
    ]),
  ];
  if (view.pendingApprovals.length > 0) {
    lines.push("", "pending approvals:");
    for (const p of view.pendingApprovals) lines.push(`  ${p.stage}: ${p.requestId} (${p.reason}) -> ${p.command}`);
  }
  lines.push("", view.waitingFor.length === 0 ? "waiting for: nothing (the controller can go on by itself)" : "waiting for:");
  for (const w of view.waitingFor) lines.push(`  - ${w}`);
  return lines.join("\n");
}

export function registerStatus(program: Command): void {
  withCommon(program.command("status").description("stages, tasks, sessions, pending approvals, and what the controller waits for"))
    .option("--watch", "redraw every second until Ctrl-C")
    .action(async (options: StatusOptions) => {
      const render = async (): Promise<StatusView> =>
        withControlDir(options, async (ctx) => {
          // Invalid manifests do not blank the screen: the last applied set is shown, with the problems on top.
          const shown = await shownManifestSet(() => ctx.loadManifests(), () => ctx.openLedger());
          return withManifestIssues(await buildStatusView(ctx.dir, shown.set, await ctx.openLedger()), shown);
        });
      if (options.watch !== true) {
        const view = await render();
        if (options.json === true) printJson(view);
        else printLine(formatStatusView(view));
        return;
      }
      for (;;) {
        const view = await render();
        if (options.json === true) printLine(JSON.stringify(view));
        else process.stdout.write(`\x1b[2J\x1b[H${new Date().toISOString()}\n${formatStatusView(view)}\n`);
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    });
}
