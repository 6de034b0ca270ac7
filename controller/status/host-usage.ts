import type { ResolvedHost } from "../core/hosts.js";
import type { Ledger } from "../../state/ledger.js";
import { readSessionHosts } from "../../state/hosts.repository.js";

/** One agent host on the status screen: its slots in use and its open sessions. */
export interface HostUsage {
  readonly name: string;
  /** `user@host:port`. */
  readonly ssh: string;
  readonly capacity: number;
  readonly inUse: number;
  readonly sessions: readonly string[];
}

/** Per-host utilization from the ledger (held reservations and open sessions), in manifest order. */
export async function readHostUsage(db: Ledger, hosts: readonly ResolvedHost[]): Promise<HostUsage[]> {
  if (hosts.length === 0) return [];
  const held = await db.selectFrom("reservations").select("host").where("state", "=", "held").where("host", "is not", null).execute();
  // Only a Closed or Failed session has a `closed_at` (the sessions_open index holds the rest).
  const open = await db.selectFrom("sessions").select(["id", "tmux_name"]).where("closed_at", "is", null).orderBy("created_at").orderBy("id").execute();
  const placed = await readSessionHosts(db, open.map((s) => s.tmux_name));
  return hosts.map((h) => ({
    name: h.name,
    ssh: `${h.ssh}:${h.port}`,
    capacity: h.capacity,
    inUse: held.filter((r) => r.host === h.name).length,
    sessions: open.filter((s) => placed.get(s.tmux_name) === h.name).map((s) => s.id),
  }));
}

/** What a person runs to attach to a session on a host. */
export function remoteAttach(host: ResolvedHost, socket: string, name: string): string {
  return `ssh -t -p ${host.port}${host.identityFile === null ? "" : ` -i ${host.identityFile}`} ${host.ssh} tmux -L ${socket} attach -t ${name}`;
}
