import type { Command } from "commander";
import { observeSessionsOnce } from "../app/session-observation.js";
import { shownManifestSet, withManifestIssues } from "../status/last-applied.js";
import { buildStatusView, type StatusView } from "../status/status-view.js";
import { withCommon, withControlDir, type CommonOptions } from "./context.js";
import { formatTable, printJson, printLine } from "./output.js";

interface StatusOptions extends CommonOptions {
  readonly watch?: boolean;
}

/** Cuts `line` to `width` columns at a word boundary, with an ellipsis (tables keep their columns; the NOTE is last). */
export function fitLine(line: string, width: number): string {
  if (line.length <= width) return line;
  const cut = line.slice(0, width - 1);
  const space = cut.lastIndexOf(" ");
  return `${(space > width / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

/** Wraps `text` at word boundaries to `width`, continuation lines indented by `indent`. */
export function wrapWords(text: string, width: number, indent: string): string[] {
  const lines: string[] = [];
  const lead = /^ */.exec(text)![0];
  let current = lead;
  for (const word of text.slice(lead.length).split(" ")) {
    if (current.trim() !== "" && current.length + 1 + word.length > width) {
      lines.push(current);
      current = indent + word;
    } else current = current.trim() === "" ? current + word : `${current} ${word}`;
  }
  if (current.trim() !== "") lines.push(current);
  return lines;
}

/** The status screen; `width` (a terminal's columns) wraps or ellipsizes long lines at word boundaries. */
export function formatStatusView(view: StatusView, width = Number.POSITIVE_INFINITY): string {
  const c = view.controller;
  const fit = (text: string): string => (Number.isFinite(width) ? text.split("\n").map((l) => fitLine(l, width)).join("\n") : text);
  const lines = [
    `controller: ${c.running ? `running (pid ${c.pid}), ${c.phase}` : "not running"}${c.appliedRevision === null ? "" : `, applied ${c.appliedRevision.slice(0, 12)}${c.sourceDirty ? " + uncommitted manifest edits" : ""}`}`,
    ...c.manifestErrors.map((e) => `  ${e}`),
    fit(`worktrees: ${view.worktreeRoot}`),
    "",
    fit(formatTable(view.stages, [
      ["STAGE", (s) => s.name],
      ["PHASE", (s) => s.phase],
      ["APPROVAL", (s) => s.approval],
      ["TASKS", (s) => s.tasks],
      ["NOTE", (s) => s.message.replace(/\s+/g, " ")],
    ])),
    "",
    formatTable(view.tasks, [
      ["TASK", (t) => t.name],
      ["STAGE", (t) => t.stage],
      ["PHASE", (t) => t.phase],
      ["SESSION", (t) => (t.session === null ? "-" : `${t.session} (${t.sessionStatus})`)],
      ...(view.hosts === undefined ? [] : [["HOST", (t: StatusView["tasks"][number]) => t.host ?? "-"] as const]),
      ["GATE", (t) => t.gate],
      ["MERGE", (t) => t.merge ?? "-"],
    ]),
  ];
  if (view.hosts !== undefined) {
    lines.push("", formatTable(view.hosts, [
      ["HOST", (h) => h.name],
      ["SSH", (h) => h.ssh],
      ["IN USE", (h) => `${h.inUse}/${h.capacity}`],
      ["SESSIONS", (h) => h.sessions.join(", ") || "-"],
    ]));
  }
  if (view.pendingApprovals.length > 0) {
    lines.push("", "pending approvals:");
    for (const p of view.pendingApprovals) lines.push(`  ${p.stage}: ${p.requestId} (${p.reason}) -> ${p.command}`);
  }
  lines.push("", view.waitingFor.length === 0 ? "waiting for: nothing (the controller can go on by itself)" : "waiting for:");
  for (const w of view.waitingFor) lines.push(...(Number.isFinite(width) ? wrapWords(`  - ${w}`, width, "    ") : [`  - ${w}`]));
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
          await observeSessionsOnce(ctx);
          return withManifestIssues(await buildStatusView(ctx.dir, shown.set, await ctx.openLedger()), shown);
        });
      if (options.watch !== true) {
        const view = await render();
        if (options.json === true) printJson(view);
        else printLine(formatStatusView(view));
        return;
      }
      if (options.json === true) {
        for (;;) {
          printLine(JSON.stringify(await render()));
          await new Promise((resolve) => setTimeout(resolve, 1000));
        }
      }
      await watchScreen(async () => `${new Date().toISOString()}\n${formatStatusView(await render(), process.stdout.columns ?? 120)}`);
    });
}

/**
 * `--watch` on a terminal: the alternate screen (the scrollback is left as it
 * was), each frame drawn in place from the top, every line cleared to its
 * end; Ctrl-C restores the screen and the cursor.
 */
async function watchScreen(frame: () => Promise<string>): Promise<never> {
  const tty = process.stdout.isTTY === true;
  const restore = (): void => {
    if (tty) process.stdout.write("\x1b[?25h\x1b[?1049l");
  };
  process.once("SIGINT", () => {
    restore();
    process.exit(0);
  });
  if (tty) process.stdout.write("\x1b[?1049h\x1b[?25l");
  for (;;) {
    const text = await frame();
    process.stdout.write(tty ? `\x1b[H${text.split("\n").join("\x1b[K\n")}\x1b[K\x1b[J` : `${text}\n\n`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
