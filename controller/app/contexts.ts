/** The service contexts a control dir provides: the composition of adapters for one call of a verb. */
import { GitCli } from "../adapters/git.js";
import { TmuxAdapter } from "../adapters/tmux.js";
import { withAgentHosts } from "./host-world.js";
import type { SessionServiceContext } from "../sessions/index.js";
import type { WorkspaceContext } from "../workspace/context.js";
import type { ControlDir } from "./control-dir.js";

/** The session service's context for a control dir: its ledger, its tmux socket, its agents and limits. */
export async function sessionContext(ctx: ControlDir): Promise<SessionServiceContext> {
  const config = await ctx.config();
  const db = await ctx.openLedger();
  // With agent hosts, a session is driven on the host it runs on.
  const { tmux, hosts } = withAgentHosts({ tmux: new TmuxAdapter({ socket: config.tmuxSocket }) }, { hosts: await ctx.hosts(), db });
  return { db, tmux, ...(hosts === undefined ? {} : { hosts }), limits: await ctx.limits(), actor: ctx.actor, agents: await ctx.agents(), controlDir: ctx.dir, agentAuthor: config.policy.agentAuthor };
}

/** The workspace context for a control dir: its ledger, git, the Project and the manifests. */
export async function workspaceContext(ctx: ControlDir): Promise<WorkspaceContext> {
  return { db: await ctx.openLedger(), git: new GitCli(), config: await ctx.config(), manifests: await ctx.loadManifests(), controlDir: ctx.dir, actor: ctx.actor };
}
