import { resolve } from "node:path";
import { NotFoundError } from "../errors.js";
import { requireTask, type WorkspaceContext } from "../workspace/context.js";
import { findActiveWorktree } from "../../state/worktrees.repository.js";
import { runGate, taskGate, type GateResult } from "./gate-runner.js";

/** Runs the task's gate (its own, else its stage's) in its active worktree on its current head, ledgered like the controller's. */
export async function runTaskGate(ws: WorkspaceContext, taskName: string): Promise<GateResult> {
  const task = requireTask(ws, taskName);
  const worktree = await findActiveWorktree(ws.db, taskName);
  if (worktree === null) throw new NotFoundError(`task ${taskName} has no worktree to gate; create it first (create_worktree, or \`gaffer worktree create --task ${taskName}\`)`);
  const path = resolve(ws.controlDir, worktree.path);
  const headSha = await ws.git.resolveCommit(path, "HEAD");
  return runGate({ db: ws.db, actor: ws.actor, task: taskName, worktree: path, gate: taskGate(ws.manifests, task) ?? {}, headSha });
}

/** The gate's outcome as the CLI and the MCP tool print it. */
export function formatGateResult(result: GateResult): string {
  const head = `gate of ${result.task} (attempt ${result.attempt}${result.headSha === null ? "" : ` on ${result.headSha.slice(0, 12)}`}): ${result.passed ? "passed" : `FAILED: ${result.reason}`}`;
  return [head, ...result.commands.map((c) => `  ${c.state}  ${c.command.join(" ")}  (exit ${c.exitCode ?? "-"}, ${c.durationMs} ms)`)].join("\n");
}
