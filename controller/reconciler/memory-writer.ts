import { runGit } from "../governance/git-cli.js";
import type { ApprovalJudgement } from "../core/approval-rules.js";
import { writeMemory, type MemoryKind } from "../memory/project-memory.js";
import type { World } from "./world.js";

interface MemoryNote {
  readonly kind: MemoryKind;
  readonly title: string;
  readonly body: string;
  readonly stage?: string | null;
  readonly task?: string | null;
  readonly author?: string;
}

/**
 * Writes a memory entry unless one with the same kind, stage, task and title
 * exists: a restarted controller re-running an effect never duplicates
 * project memory.
 */
export async function writeMemoryOnce(world: World, note: MemoryNote): Promise<boolean> {
  let query = world.db.selectFrom("memory").select("id").where("kind", "=", note.kind).where("title", "=", note.title);
  query = note.task == null ? query.where("task", "is", null) : query.where("task", "=", note.task);
  if ((await query.executeTakeFirst()) !== undefined) return false;
  await writeMemory({ dir: world.dir, db: world.db, kind: note.kind, title: note.title, body: note.body, stage: note.stage ?? null, task: note.task ?? null, author: note.author ?? world.actor, actor: world.actor });
  return true;
}

/** The planner's output: what its merged branch added, as memory `plan`. */
export async function rememberPlan(world: World, task: string, stage: string): Promise<void> {
  const worktree = await world.db.selectFrom("worktrees").select(["base_sha", "branch"]).where("task", "=", task).orderBy("created_at", "desc").executeTakeFirst();
  const merge = await world.db.selectFrom("merges").select("merge_sha").where("task", "=", task).where("state", "=", "merged").orderBy("id", "desc").executeTakeFirst();
  if (worktree === undefined || merge?.merge_sha == null) return;
  const repo = `${world.dir}/${world.config.repo}`;
  const diff = await runGit(repo, ["diff", "--no-color", `${worktree.base_sha}..${merge.merge_sha}`], { check: false });
  const body = [`Output of task ${task} (stage ${stage}), merged as ${merge.merge_sha}.`, "", "```diff", diff.stdout.replace(/\n$/, "").split("\n").slice(0, 400).join("\n"), "```"].join("\n");
  await writeMemoryOnce(world, { kind: "plan", title: `Plan from ${task}`, body, stage, task });
}

/** A granted approval and its comments, as memory `decision`. */
export async function rememberApproval(world: World, stage: string, judgement: ApprovalJudgement): Promise<void> {
  if (judgement.reason !== "Granted") return;
  const lines = judgement.verdicts.filter((v) => v.verdict === "Granted").map((v) => `- ${v.commit?.authorEmail ?? "?"} approved in commit ${v.commit?.sha.slice(0, 12) ?? "?"}${v.comment === null ? "" : `: ${v.comment}`}`);
  await writeMemoryOnce(world, { kind: "decision", title: `Approved ${judgement.requestId}`, body: [`Stage ${stage} was approved (request ${judgement.requestId}).`, "", ...lines].join("\n"), stage });
}

/** A reviewer's verdict and findings, as memory `review`. */
export async function rememberReview(world: World, note: { readonly task: string; readonly stage: string; readonly headSha: string | null; readonly reviewer: string; readonly approved: boolean; readonly summary: string }): Promise<void> {
  const verdict = note.approved ? "approve" : "request-changes";
  await writeMemoryOnce(world, {
    kind: "review",
    title: `Review of ${note.task} at ${note.headSha?.slice(0, 12) ?? "HEAD"}`,
    body: [`Reviewer session ${note.reviewer} on task ${note.task} (head ${note.headSha ?? "HEAD"}).`, "", `Verdict: ${verdict}`, "", `Findings: ${note.summary}`].join("\n"),
    stage: note.stage,
    task: note.task,
    author: note.reviewer,
  });
}

/** What a finished stage did, as memory `summary`. */
export async function rememberStageSummary(world: World, stage: string, phase: string, reason: string | null): Promise<void> {
  const tasks = await world.db.selectFrom("tasks").select(["name", "phase", "gate_attempts", "resolve_attempts"]).where("stage", "=", stage).orderBy("name").execute();
  const merges = await world.db.selectFrom("merges").select(["task", "merge_sha"]).where("state", "=", "merged").execute();
  const times = await world.db.selectFrom("stages").select(["started_at", "finished_at"]).where("name", "=", stage).executeTakeFirst();
  const mergeOf = new Map(merges.map((m) => [m.task, m.merge_sha]));
  const elapsed = times?.started_at && times.finished_at ? `${((Date.parse(times.finished_at) - Date.parse(times.started_at)) / 1000).toFixed(1)} s` : "unknown";
  const body = [
    `Stage ${stage} ${phase}${reason === null ? "" : `: ${reason}`}. Elapsed since start: ${elapsed}.`,
    "",
    "| task | phase | gate attempts | resolve rounds | merge |",
    "| --- | --- | --- | --- | --- |",
    ...tasks.map((t) => `| ${t.name} | ${t.phase} | ${t.gate_attempts} | ${t.resolve_attempts} | ${mergeOf.get(t.name)?.slice(0, 12) ?? "-"} |`),
  ].join("\n");
  await writeMemoryOnce(world, { kind: "summary", title: `Stage ${stage} ${phase}`, body, stage });
}
