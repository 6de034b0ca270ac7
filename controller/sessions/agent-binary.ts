import { accessSync, constants, statSync } from "node:fs";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import type { ResolvedAgent } from "../core/agent-profiles.js";

/** Why an agent cannot start: its binary is missing. */
export interface MissingAgent {
  readonly agent: string;
  readonly binary: string;
  /** `AGENT_NOT_INSTALLED`-style sentence with the install hint. */
  readonly message: string;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Where the agent's binary is: a path in its command, else the first match on its PATH (AgentPool env first); null when none. */
export function findAgentBinary(agent: ResolvedAgent, env: NodeJS.ProcessEnv = process.env): string | null {
  const binary = agent.command[0];
  if (binary === undefined || binary === "") return null;
  if (binary.includes("/")) return isExecutable(isAbsolute(binary) ? binary : resolve(binary)) ? binary : null;
  const path = agent.env.PATH ?? env.PATH ?? "";
  for (const dir of path.split(delimiter)) if (dir !== "" && isExecutable(join(dir, binary))) return join(dir, binary);
  return null;
}

/** The agent's binary is missing: what to tell the user; null when it is installed. */
export function missingAgent(agent: ResolvedAgent, env: NodeJS.ProcessEnv = process.env): MissingAgent | null {
  if (findAgentBinary(agent, env) !== null) return null;
  const binary = agent.command[0] ?? "";
  const where = binary.includes("/") ? `${binary} does not exist or is not executable` : `\`${binary}\` is not on PATH`;
  return { agent: agent.name, binary, message: `agent "${agent.name}" cannot start: ${where}; install it (${agent.installHint}) or set the AgentPool agent's command` };
}

/** Every agent whose binary is missing, by name. */
export function missingAgents(agents: readonly ResolvedAgent[], env: NodeJS.ProcessEnv = process.env): Map<string, MissingAgent> {
  const missing = new Map<string, MissingAgent>();
  for (const agent of agents) {
    const m = missingAgent(agent, env);
    if (m !== null) missing.set(agent.name, m);
  }
  return missing;
}
