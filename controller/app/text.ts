/**
 * The one-line and table texts every entry point prints for people (the
 * CLI's output, the MCP tools' text content), so both say the same thing.
 */
import type { AllocationReport, BlockReason } from "../core/allocation.js";
import type { MemoryEntry } from "../memory/project-memory.js";
import type { CommandRecord } from "../../state/commands.repository.js";
import type { SessionRecord } from "../../state/sessions.repository.js";

/** A plain aligned table; `columns` gives header and cell getter. */
export function formatTable<T>(rows: readonly T[], columns: readonly (readonly [string, (row: T) => string])[]): string {
  const cells = rows.map((row) => columns.map(([, get]) => get(row)));
  const widths = columns.map(([header], i) => Math.max(header.length, ...cells.map((c) => c[i]!.length)));
  const line = (values: readonly string[]): string => values.map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(columns.map(([h]) => h)), ...cells.map(line)].join("\n");
}

/** One line about a session, for people. */
export function sessionLine(s: SessionRecord): string {
  return `session ${s.id}: ${s.state} (agent ${s.agent}, model ${s.model ?? "-"}, worktree ${s.worktree}, tmux -L ${s.tmuxSocket} attach -t ${s.tmuxName})`;
}

/** One line about a command, for people. */
export function commandLine(c: CommandRecord): string {
  return `command ${c.seq} to session ${c.sessionId}: ${c.state}${c.summary ? ` (${c.summary})` : ""}`;
}

/** One memory entry as `gaffer memory read` prints it. */
export function formatEntry(entry: MemoryEntry): string {
  const about = [entry.stage === null ? null : `stage ${entry.stage}`, entry.task === null ? null : `task ${entry.task}`].filter((x) => x !== null).join(", ");
  const head = `## [${entry.kind}] ${entry.title}\n${entry.created} by ${entry.author}${about === "" ? "" : ` (${about})`}: ${entry.path}`;
  return `${head}\n\n${entry.body === null ? "(file missing)" : entry.body.trimEnd()}`;
}

/** Why a role is blocked, in one line. */
export function describeBlock(reason: BlockReason): string {
  switch (reason.code) {
    case "CAPACITY_EXCEEDED":
      return `CAPACITY_EXCEEDED ${reason.scope}${reason.scope === "global" ? "" : ` ${reason.key}`}: limit ${reason.limit}, in use ${reason.inUse}, requested ${reason.requested}`;
    case "NO_ALLOWED_AGENT":
      return `NO_ALLOWED_AGENT: ${reason.detail} (allowed: ${reason.allowedAgents.join(", ")})`;
    case "MODEL_UNAVAILABLE":
      return `MODEL_UNAVAILABLE: agent ${reason.agent} has no model ${reason.model} (has: ${reason.models.join(", ")})`;
    case "AGENT_NOT_INSTALLED":
      return `AGENT_NOT_INSTALLED: ${reason.detail}`;
  }
}

export function formatAllocationReport(report: AllocationReport): string {
  const rows = report.roles.flatMap((role) => {
    const base = role.assignments.map((a, i) => ({ role: i === 0 ? role.role : "", agent: a.agent, model: a.model ?? "-", count: String(a.count), want: i === 0 ? `${role.allocated}/${role.requested}` : "", tasks: i === 0 ? role.tasks.join(",") || "-" : "" }));
    return base.length > 0 ? base : [{ role: role.role, agent: "-", model: "-", count: "0", want: `0/${role.requested}`, tasks: role.tasks.join(",") || "-" }];
  });
  const table = formatTable(rows, [
    ["ROLE", (r) => r.role],
    ["AGENT", (r) => r.agent],
    ["MODEL", (r) => r.model],
    ["COUNT", (r) => r.count],
    ["STAFFED", (r) => r.want],
    ["TASKS", (r) => r.tasks],
  ]);
  const blocked = report.roles.filter((r) => r.blocked.length > 0);
  const lines = [`stage ${report.stage}: capacity global ${report.inUse.global}/${report.limits.global} in use`, table];
  if (blocked.length === 0) lines.push("", "all roles staffed");
  else {
    lines.push("", "blocked roles:");
    for (const role of blocked) for (const reason of role.blocked) lines.push(`  ${role.role}: ${describeBlock(reason)}`);
  }
  for (const role of report.roles.filter((r) => r.blocked.length === 0 && (r.skipped ?? []).length > 0)) {
    for (const reason of role.skipped!) lines.push(`  ${role.role}: fell back past ${describeBlock(reason)}`);
  }
  return lines.join("\n");
}
