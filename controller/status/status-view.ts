import { findCondition } from "../core/conditions.js";
import type { ManifestSet } from "../core/manifest-types.js";
import { allStages, resolveProject } from "../core/project-config.js";
import { resolve } from "node:path";
import { readControllerLiveness } from "./controller-liveness.js";
import { blockedWork, dependencyDeadlocks, type TaskFact } from "./waiting-for.js";
import type { Ledger } from "../../state/ledger.js";
import { readControllerStatus, readStageStatus, readTaskStatus } from "./status-store.js";
import { readTaskView } from "../../state/task-details.repository.js";
import { readOpenSessionHosts } from "../../state/hosts.repository.js";
import { LOCAL_HOST, resolveHosts } from "../core/hosts.js";
import { readHostUsage, remoteAttach, type HostUsage } from "./host-usage.js";

/** One screen of what is going on in a control dir (`gaffer status`). */
export interface StatusView {
  readonly controller: { readonly running: boolean; readonly pid: number | null; readonly phase: string; readonly appliedRevision: string | null; readonly sourceDirty: boolean; readonly manifestErrors: readonly string[] };
  /** Absolute directory the task worktrees go under (spec.worktreeRoot, or its default beside the target repo). */
  readonly worktreeRoot: string;
  readonly stages: readonly { readonly name: string; readonly phase: string; readonly approval: string; readonly tasks: string; readonly message: string }[];
  readonly tasks: readonly { readonly name: string; readonly stage: string; readonly phase: string; readonly session: string | null; readonly sessionStatus: string | null; readonly attach: string | null; readonly gate: string; readonly merge: string | null; readonly host?: string | null }[];
  readonly pendingApprovals: readonly { readonly stage: string; readonly requestId: string; readonly reason: string; readonly command: string }[];
  /** What nothing can happen without: approvals, people, capacity, fixes. */
  readonly waitingFor: readonly string[];
  /** Agent hosts and their utilization; present only when the AgentPools list hosts (task rows then name their session's host). */
  readonly hosts?: readonly HostUsage[];
}

export async function buildStatusView(dir: string, set: ManifestSet, db: Ledger): Promise<StatusView> {
  const controller = (await readControllerStatus(dir)).status;
  const stagePhases = new Map<string, string>();
  for (const stage of allStages(set)) stagePhases.set(stage.name, (await readStageStatus(dir, stage.name)).status?.phase ?? "Pending");
  const { pid } = await readControllerLiveness(db);
  const waitingFor: string[] = [];
  const finished = allStages(set).every((s) => stagePhases.get(s.name) === "Passed");
  if (pid === null && !finished) waitingFor.push(`no controller runs for this control dir (\`gaffer up\` is not running): start one with \`gaffer up --dir ${dir}\``);
  const errors = (controller?.manifestErrors ?? []).map((e) => e.message);
  if (errors.length > 0) waitingFor.push(`the manifests are invalid (${errors.length} problem(s)); the last valid set keeps running: fix them (\`gaffer validate\`)`);
  const stages: StatusView["stages"][number][] = [];
  const pending: StatusView["pendingApprovals"][number][] = [];
  for (const stage of allStages(set)) {
    const status = (await readStageStatus(dir, stage.name)).status;
    const approved = status === null ? undefined : findCondition(status.conditions, "Approved");
    const stalled = status === null ? undefined : findCondition(status.conditions, "Stalled");
    const tasks = ((status?.details?.tasks ?? []) as { phase: string }[]);
    const phase = status?.phase ?? "Pending";
    stages.push({ name: stage.name, phase, approval: approved?.reason ?? "-", tasks: `${tasks.filter((t) => t.phase === "Merged").length}/${tasks.length} merged`, message: phase === "AwaitingApproval" ? (approved?.message ?? "") : stalled?.status === "True" ? stalled.message : "" });
    if (phase === "AwaitingApproval" && status?.approvalRequest !== undefined) {
      const approvers = (set.project.spec.policy?.approvers ?? []).join(", ");
      // NOTE: with no eligible approver, `gaffer approve` cannot count; the condition names the choices instead.
      const solo = approved?.reason === "NoEligibleApprover";
      const how = solo ? approved!.message.replace(/^[^:]*: /, "") : `an approver${approvers === "" ? "" : ` (${approvers})`} runs \`gaffer approve ${stage.name} --dir ${dir}\``;
      pending.push({ stage: stage.name, requestId: status.approvalRequest.id, reason: approved?.reason ?? "Pending", command: solo ? "no approval can count yet: add a second approver, or set preventSelfApproval: false" : `gaffer approve ${stage.name} --dir ${dir}` });
      waitingFor.push(`approval of stage ${stage.name} (${status.approvalRequest.id}, ${approved?.reason ?? "Pending"}): ${how}`);
    }
    if (phase === "Blocked") waitingFor.push(`stage ${stage.name} is Blocked: its allocation cannot staff every role (see \`gaffer plan ${stage.name}\`)`);
  }
  const tasks: StatusView["tasks"][number][] = [];
  const facts: TaskFact[] = [];
  const pauses = new Set((await db.selectFrom("pauses").select("target").execute()).map((p) => p.target));
  const hostList = resolveHosts(set, dir);
  const sessionHosts = hostList.length === 0 ? new Map<string, string>() : await readOpenSessionHosts(db);
  for (const task of set.tasks) {
    const name = task.metadata.name;
    const status = (await readTaskStatus(dir, name)).status;
    const { details, sessionOpen: open } = await readTaskView(db, name);
    const gate = gateCell(details.gates, (status?.details ?? {}) as { attempt?: number; round?: number });
    const stalled = status === null ? undefined : findCondition(status.conditions, "Stalled");
    facts.push({ name, stage: task.spec.stage, phase: status?.phase ?? "Pending", reason: ((status?.details ?? {}) as { reason?: string }).reason ?? null, stalled: stalled?.status === "True" && stalled.reason !== "Failed" ? stalled.message : null });
    const host = open ? hostList.find((h) => h.name === sessionHosts.get(details.session!.id)) : undefined;
    const attach = !open ? null : host === undefined ? details.session!.tmux : remoteAttach(host, resolveProject(set.project, dir).tmuxSocket, details.session!.id);
    tasks.push({ name, stage: task.spec.stage, phase: status?.phase ?? "Pending", session: open ? details.session!.id : null, sessionStatus: open ? details.session!.status : null, attach, gate, merge: details.merge?.mergeSha?.slice(0, 12) ?? details.merge?.state ?? null, ...(hostList.length === 0 ? {} : { host: open ? (host?.name ?? LOCAL_HOST) : null }) });
    if (open && details.session!.status === "waiting") waitingFor.push(`task ${name}: its agent asks a question; answer it with \`${attach}\``);
    if (pauses.has(`task/${name}`) || task.spec.paused === true) waitingFor.push(`task ${name} is paused (human takeover): \`gaffer resume ${name} --dir ${dir}\` when done`);
  }
  waitingFor.push(...blockedWork({ set, dir, tasks: facts, stages: stagePhases }), ...dependencyDeadlocks(set, dir));
  return {
    // A phase from status/controller.yaml is what the controller last wrote; with no controller it is Stopped.
    controller: { running: pid !== null, pid, phase: pid === null ? "Stopped" : (controller?.phase ?? "Unknown"), appliedRevision: controller?.lastAppliedRevision ?? null, sourceDirty: controller?.sourceDirty ?? false, manifestErrors: errors },
    worktreeRoot: resolve(dir, resolveProject(set.project, dir).worktreeRoot),
    stages,
    tasks,
    pendingApprovals: pending,
    waitingFor,
    ...(hostList.length === 0 ? {} : { hosts: await readHostUsage(db, hostList) }),
  };
}

/** `running`, `passed` or `failed` for the last gate run; an attempt count only for real work rounds (retries, failed gates), never for the merge queue's re-run. */
export function gateCell(gates: readonly { readonly state: string }[], task: { readonly attempt?: number; readonly round?: number }): string {
  if (gates.length === 0) return "-";
  const state = gates.some((g) => g.state === "running") ? "running" : gates.every((g) => g.state === "passed") ? "passed" : "failed";
  const notes = [...((task.attempt ?? 1) > 1 ? [`attempt ${task.attempt}`] : []), ...((task.round ?? 0) > 0 ? [`retry ${task.round}`] : [])];
  return notes.length === 0 ? state : `${state} (${notes.join(", ")})`;
}
