import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findAgent, observeSession } from "../../controller/sessions/context.js";
import { closeSession, createSession } from "../../controller/sessions/index.js";
import { renderReportHtml } from "../../controller/report/report-html.js";
import { buildReport, formatReport } from "../../controller/report/report.js";
import { getSession } from "../../state/sessions.repository.js";
import { sessionFixture } from "../helpers/session-fixture.js";
import { tempDir, waitFor } from "../helpers/temp.js";

/**
 * An agent that shows its prompt, then (one Enter each) works, shows an API
 * error, then a screen no rule recognises: the scripted profile's rules
 * read these as idle, running, error and unknown.
 */
const AGENT = [
  "printf 'scripted> '", "read a", "printf 'Working...\\n'", "read b",
  "printf 'ERROR: API Error: 529 overloaded, retrying\\n'", "read c",
  "printf 'Reticulating splines\\n'", "sleep 600",
].join("; ");

describe("error and stuck screens in the report (from real observations)", () => {
  it("time on an error or unrecognised screen is its own category, never busy: exact figures from the ledger's rows", async () => {
    const script = join(tempDir("gaffer-report-stuck-"), "agent.sh");
    writeFileSync(script, `${AGENT}\n`);
    const f = await sessionFixture({ agent: { command: ["sh", script] } });
    const session = await createSession(f.ctx, { task: "round-trip", agent: "scripted", role: "builder", worktree: f.dir });
    const agent = findAgent(f.ctx, "scripted");
    const reach = (status: string) => waitFor(async () => ((await observeSession(f.ctx, (await getSession(f.ctx.db, session.id))!, agent)).evidence.status === status ? true : undefined));
    await reach("idle");
    for (const status of ["running", "error", "unknown"]) {
      await f.tmux.sendEnter(session.tmuxName);
      await reach(status);
    }
    await closeSession(f.ctx, session.id);

    // The figures the report must give, worked out from the ledger's own rows.
    const row = (await getSession(f.ctx.db, session.id))!;
    const changes = await f.ctx.db.selectFrom("events").select(["at", "payload"]).where("subject", "=", `session/${session.id}`).where("action", "=", "SessionStatusChanged").orderBy("id").execute();
    // Each status lasts from its change until the next one (or the close); start-up until the first.
    const created = Date.parse(row.createdAt);
    const closed = Date.parse(row.closedAt!);
    // An idle status holds from `since` when the ledger has it: the screen had settled before it was seen idle.
    const steps = [{ at: created, to: "starting" }, ...changes.map((c) => ({ at: Date.parse((JSON.parse(c.payload) as { since?: string }).since ?? c.at), to: (JSON.parse(c.payload) as { to: string }).to }))];
    const time: Record<string, number> = { starting: 0, running: 0, idle: 0, waiting: 0, error: 0, unknown: 0 };
    steps.forEach((s, i) => (time[s.to] = (time[s.to] ?? 0) + ((steps[i + 1]?.at ?? closed) - s.at)));
    expect(steps.map((s) => s.to).filter((to) => to !== "running")).toEqual(["starting", "idle", "error", "unknown"]);
    const expected = {
      lifetimeMs: closed - created, startingMs: time.starting!, idleMs: time.idle!, busyMs: time.running!,
      errorMs: time.error!, stuckMs: time.unknown!, waitingMs: 0, pausedMs: 0, otherMs: 0,
    };
    expect(expected.errorMs).toBeGreaterThan(0);
    expect(expected.stuckMs).toBeGreaterThan(0);

    const report = await buildReport(f.ctx.db, { now: new Date(closed + 60_000).toISOString() });
    const usage = report.sessions.find((s) => s.id === session.id)!;
    expect(usage).toMatchObject({ ...expected, utilization: expected.busyMs / expected.lifetimeMs });
    expect(report.agents[0]).toMatchObject({ busyMs: expected.busyMs, errorMs: expected.errorMs, stuckMs: expected.stuckMs });

    const secs = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;
    const text = formatReport(report);
    expect(text).toMatch(/^SESSION\s+ROLE\s+LIFETIME\s+BUSY\s+IDLE\s+WAITING\s+PAUSED\s+STARTING\s+ERROR\s+STUCK\s+UTIL/m);
    const line = text.split("\n").find((l) => l.startsWith(`${session.id} `))!;
    expect(line.split(/\s+/).slice(2, 10)).toEqual([expected.lifetimeMs, expected.busyMs, expected.idleMs, 0, 0, expected.startingMs, expected.errorMs, expected.stuckMs].map(secs));

    const html = renderReportHtml(report);
    expect(html).toContain(`<th>error</th><th>stuck</th>`);
    expect(html).toContain(`data-lane="session/${session.id}" data-state="error"`);
    expect(html).toContain(`data-lane="session/${session.id}" data-state="unknown"`);
  });
});
