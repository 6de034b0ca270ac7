import type { Ledger } from "../../state/ledger.js";
import type { Report } from "./report-model.js";

/** One agent host's share of the work (sessions there; busy and lifetime summed over them). */
export interface HostFigures {
  readonly host: string;
  readonly sessions: number;
  readonly busyMs: number;
  readonly lifetimeMs: number;
  /** busy / lifetime over the host's sessions, 0..1. */
  readonly utilization: number;
}

/** The session -> host map of sessions that ran on agent hosts (through their reservations). */
export async function readReportHosts(db: Ledger): Promise<Map<string, string>> {
  const rows = await db.selectFrom("sessions").innerJoin("reservations", "reservations.id", "sessions.reservation_id").select(["sessions.id", "reservations.host"]).where("reservations.host", "is not", null).execute();
  return new Map(rows.map((r) => [r.id, r.host!]));
}

/** Pure: the report with each session's host and per-host figures; unchanged when no session ran on a host. */
export function withHostFigures(report: Report, hostOf: ReadonlyMap<string, string>): Report {
  if (hostOf.size === 0) return report;
  const sessions = report.sessions.map((s) => ({ ...s, host: hostOf.get(s.id) ?? "local" }));
  const hosts = new Map<string, { sessions: number; busyMs: number; lifetimeMs: number }>();
  for (const s of sessions) {
    const h = hosts.get(s.host) ?? { sessions: 0, busyMs: 0, lifetimeMs: 0 };
    hosts.set(s.host, { sessions: h.sessions + 1, busyMs: h.busyMs + s.busyMs, lifetimeMs: h.lifetimeMs + s.lifetimeMs });
  }
  const figures = [...hosts].map(([host, h]) => ({ host, ...h, utilization: h.lifetimeMs === 0 ? 0 : h.busyMs / h.lifetimeMs })).sort((a, b) => a.host.localeCompare(b.host));
  return { ...report, sessions, hosts: figures };
}
