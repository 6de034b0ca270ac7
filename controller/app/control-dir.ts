import { userInfo } from "node:os";
import { join, resolve } from "node:path";
import { resolveAgent, type ResolvedAgent } from "../core/agent-profiles.js";
import { capacityLimits, type CapacityLimits } from "../core/capacity.js";
import { resolveHosts, type ResolvedHost } from "../core/hosts.js";
import type { ManifestSet } from "../core/manifest-types.js";
import { allAgents, resolveProject, type ProjectConfig } from "../core/project-config.js";
import { ledgerTargetOf } from "../manifest/ledger-location.js";
import { LEDGER_FILE, openLedgerAt, type Ledger } from "../../state/ledger.js";
import type { LedgerTarget } from "../../state/ledger-target.js";

/** Which entry point called the application layer: it decides what may be overridden (only a person at the CLI may). */
export type EntryPoint = "cli" | "mcp";

/** Everything a verb may need from a control dir, loaded on first use. */
export class ControlDir {
  readonly dir: string;
  readonly actor: string;
  readonly entry: EntryPoint = "cli";
  private ledger: Ledger | undefined;
  private manifests: ManifestSet | undefined;

  constructor(dir: string) {
    this.dir = resolve(dir);
    this.actor = `cli:${process.env.GAFFER_ACTOR ?? safeUser()}`;
  }

  get ledgerFile(): string {
    return join(this.dir, LEDGER_FILE);
  }

  /** Which ledger this control dir uses (GAFFER_LEDGER_URL, spec.ledger.url, else its SQLite file). */
  async ledgerTarget(): Promise<LedgerTarget> {
    return ledgerTargetOf(this.dir);
  }

  async openLedger(): Promise<Ledger> {
    this.ledger ??= await openLedgerAt(await this.ledgerTarget());
    return this.ledger;
  }

  async loadManifests(): Promise<ManifestSet> {
    // Loaded on use: the YAML parser and the schemas cost a verb that reads only the ledger (`gaffer log`) its start-up.
    this.manifests ??= await (await import("../manifest/load.js")).loadManifestSet(this.dir);
    return this.manifests;
  }

  async config(): Promise<ProjectConfig> {
    return resolveProject((await this.loadManifests()).project, this.dir);
  }

  async agents(): Promise<ResolvedAgent[]> {
    return allAgents(await this.loadManifests()).map(resolveAgent);
  }

  /** The agent hosts of every AgentPool (none: agents run on this machine). */
  async hosts(): Promise<ResolvedHost[]> {
    return resolveHosts(await this.loadManifests(), this.dir);
  }

  async limits(): Promise<CapacityLimits> {
    return capacityLimits(await this.config(), await this.agents(), await this.hosts());
  }

  async close(): Promise<void> {
    await this.ledger?.destroy();
    this.ledger = undefined;
  }
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return "unknown";
  }
}
