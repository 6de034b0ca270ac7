import { pino, type Logger } from "pino";
import { HostTmux, type TmuxServer } from "../adapters/host-tmux.js";
import { TmuxAdapter } from "../adapters/tmux.js";
import { WatchedTmux } from "../adapters/watched-tmux.js";
import type { ResolvedHost } from "../core/hosts.js";
import type { AgentHosts, ScreenActivity, Tmux } from "../ports.js";
import { sshAgentHosts } from "../workspace/remote-worktree.js";
import { readSessionHosts } from "../../state/hosts.repository.js";
import type { Ledger } from "../../state/ledger.js";

/** This process's tmux servers on agent hosts, one per socket and host (built once, like the local one). */
const servers = new Map<string, TmuxServer>();
/** The routers, per local server and host list. */
const routers = new WeakMap<object, Map<string, HostTmux>>();

const hostKey = (h: ResolvedHost): string => JSON.stringify([h.name, h.ssh, h.port, h.identityFile, h.workdir]);

/**
 * The world's tmux and workspace ports when the AgentPools list hosts: one
 * router over this machine's server and each host's (followed in control
 * mode over ssh when the local one is), and the git transport to the hosts.
 * Without hosts the base is returned unchanged.
 */
export function withAgentHosts(base: { readonly tmux: Tmux; readonly activity?: ScreenActivity }, options: { readonly hosts: readonly ResolvedHost[]; readonly db: Ledger; readonly logger?: Logger }): { tmux: Tmux; activity?: ScreenActivity; hosts?: AgentHosts } {
  if (options.hosts.length === 0) return { tmux: base.tmux, ...(base.activity === undefined ? {} : { activity: base.activity }) };
  const watched = base.activity !== undefined;
  const socket = base.tmux.socket;
  const byName = new Map(options.hosts.map((h) => [h.name, h]));
  const serverOf = (name: string): TmuxServer => {
    const host = byName.get(name)!;
    const key = `${socket}|${watched}|${hostKey(host)}`;
    let server = servers.get(key);
    if (server === undefined) servers.set(key, (server = watched ? new WatchedTmux({ socket, host, logger: options.logger ?? pino({ level: "silent" }) }) : new TmuxAdapter({ socket, host })));
    return server;
  };
  let cache = routers.get(base.tmux);
  if (cache === undefined) routers.set(base.tmux, (cache = new Map()));
  const key = options.hosts.map(hostKey).join(",");
  let router = cache.get(key);
  if (router === undefined) {
    const local = base.tmux as TmuxServer;
    router = new HostTmux({ local, serverOf, hosts: options.hosts.map((h) => h.name), locate: async (name) => (await readSessionHosts(options.db, [name])).get(name) ?? null });
    cache.set(key, router);
  }
  return { tmux: router, ...(watched ? { activity: router } : {}), hosts: sshAgentHosts(options.hosts) };
}

/** Detaches every host's control client (the controller stops; sessions keep running). */
export async function closeHostServers(): Promise<void> {
  await Promise.all([...servers.values()].map((s) => (s instanceof WatchedTmux ? s.close() : undefined)));
}
