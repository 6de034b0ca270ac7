import type { Command } from "commander";
import { formatManifestIssue } from "../manifest/manifest-issue.js";
import { validateDir } from "../manifest/load.js";
import { resolve } from "node:path";
import { printJson, printLine } from "./output.js";
import { resolveAgent } from "../core/agent-profiles.js";
import { allAgents, resolveProject } from "../core/project-config.js";
import type { ManifestSet } from "../core/manifest-types.js";
import { missingAgents } from "../sessions/agent-binary.js";
import { withCommon, type CommonOptions } from "./context.js";

export function registerValidate(program: Command): void {
  withCommon(program.command("validate").description("check every manifest against its schema and the others; exit 1 listing every problem")).action(async (options: CommonOptions) => {
    const result = await validateDir(resolve(options.dir));
    // Valid manifests: each agent's binary is checked too (AGENT_NOT_INSTALLED is a note: allocation falls back).
    const missing = result.valid ? [...missingAgents(allAgents(result.set).map(resolveAgent)).values()] : [];
    if (options.json === true) {
      printJson({ valid: result.valid, issues: result.issues, ...(result.valid ? { worktreeRoot: worktreesOf(result.set, options.dir) } : {}), ...(missing.length > 0 ? { missingAgents: missing } : {}) });
    } else if (result.valid) {
      const set = result.set;
      printLine(`manifests valid: 1 project, ${set.agentPools.length} agent pool(s), ${set.playbooks.length} playbook(s), ${set.tasks.length} task(s) (generation ${set.generation}); task worktrees go under ${worktreesOf(set, options.dir)}`);
    } else {
      for (const issue of result.issues) process.stderr.write(formatManifestIssue(issue) + "\n");
      process.stderr.write(`error: MANIFEST_INVALID: ${result.issues.length} problem${result.issues.length === 1 ? "" : "s"} found\n`);
    }
    // A note on stdout, not an error: the manifests are valid and allocation falls back past a missing agent.
    if (options.json !== true) for (const m of missing) printLine(`note: AGENT_NOT_INSTALLED: ${m.message}`);
    if (!result.valid) process.exitCode = 1;
  });
}

/** The absolute worktree root of a valid set (spec.worktreeRoot, or its default beside the target repo). */
function worktreesOf(set: ManifestSet, dir: string): string {
  return resolve(dir, resolveProject(set.project, resolve(dir)).worktreeRoot);
}
