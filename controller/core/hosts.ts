import { isAbsolute, resolve } from "node:path";
import type { ManifestSet } from "./manifest-types.js";

/** An agent host with every default applied (AgentPool `spec.hosts`). */
export interface ResolvedHost {
  readonly name: string;
  /** `user@host` or `host`: validated by the schema (no options, no spaces). */
  readonly ssh: string;
  readonly port: number;
  /** Absolute path of the private key, or null for ssh's own choice. */
  readonly identityFile: string | null;
  readonly capacity: number;
  /** Absolute directory on the host for gaffer's clone and worktrees. */
  readonly workdir: string;
}

/** What status and reports call this machine when hosts are listed. */
export const LOCAL_HOST = "local";

/** Every host of every AgentPool, in manifest order; a relative identityFile is taken from `controlDir`. */
export function resolveHosts(set: Pick<ManifestSet, "agentPools">, controlDir: string): ResolvedHost[] {
  return set.agentPools.flatMap((pool) =>
    (pool.spec.hosts ?? []).map((host) => ({
      name: host.name,
      ssh: host.ssh,
      port: host.port ?? 22,
      identityFile: host.identityFile === undefined ? null : isAbsolute(host.identityFile) ? host.identityFile : resolve(controlDir, host.identityFile),
      capacity: host.capacity ?? 1,
      workdir: host.workdir.replace(/\/+$/, "") || "/",
    })),
  );
}

/** Where a task's clone and worktree live on a host: `<workdir>/repo.git` and `<workdir>/worktrees/<task>`. */
export function remotePaths(host: ResolvedHost, task: string): { readonly repo: string; readonly worktree: string } {
  return { repo: `${host.workdir}/repo.git`, worktree: `${host.workdir}/worktrees/${task}` };
}
