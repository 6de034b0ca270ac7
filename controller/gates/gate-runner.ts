/**
 * run_quality_gate, command part: runs a gate's argv commands in a worktree
 * (each with the gate's timeout), ledgers each as a `gates` row with its
 * events, and returns pass/fail with the evidence. A review verdict (a
 * reviewer session, added later) plugs in through `GateReviewer`.
 */
import { execa } from "execa";
import type { GateSpec, ManifestSet, TaskManifest } from "../core/manifest-types.js";
import { findStage } from "../core/project-config.js";
import { appendEvent } from "../../state/events.repository.js";
import { finishGateRun, nextGateAttempt, startGateRun } from "../../state/gates.repository.js";
import { immediateTransaction, type Ledger } from "../../state/ledger.js";

export const DEFAULT_GATE_TIMEOUT_MS = 600_000;
const TAIL_CHARS = 4000;

/** What one gate command did. */
export interface GateCommandEvidence {
  /** The `gates` row. */
  readonly id: number;
  readonly command: readonly string[];
  readonly state: "passed" | "failed";
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  readonly durationMs: number;
  /** The last few thousand characters of stdout+stderr. */
  readonly outputTail: string;
}

/** A reviewer's decision on the diff. */
export interface ReviewVerdict {
  /** Who reviewed (session id or person). */
  readonly reviewer: string;
  readonly approved: boolean;
  readonly summary: string;
}

/** Produces a review verdict for a task's head (the reviewer-session part of gates). */
export interface GateReviewer {
  /** Reviews the worktree at `headSha`; resolves with the verdict (never throws for a rejection). */
  review(input: { readonly task: string; readonly worktree: string; readonly headSha: string | null }): Promise<ReviewVerdict>;
}

export interface GateResult {
  readonly task: string;
  readonly attempt: number;
  readonly passed: boolean;
  /** Why it failed (null when passed). */
  readonly reason: string | null;
  /** The commit the gate judged, when the caller knows it. */
  readonly headSha: string | null;
  readonly commands: readonly GateCommandEvidence[];
  /** Whether the gate asks for a review verdict. */
  readonly reviewRequired: boolean;
  /** The verdict, when a reviewer gave one. */
  readonly review: ReviewVerdict | null;
}

export interface GateRun {
  readonly db: Ledger;
  readonly actor: string;
  readonly task: string;
  /** Where the commands run. */
  readonly worktree: string;
  readonly gate: GateSpec;
  readonly headSha?: string | null;
  readonly reviewer?: GateReviewer;
}

/** The gate a task must pass: its own, else its stage's; null when neither has one. */
export function taskGate(manifests: ManifestSet, task: TaskManifest): GateSpec | null {
  return task.spec.gate ?? findStage(manifests, task.spec.stage)?.gate ?? null;
}

/** Why a gate cannot decide anything (no commands, and no `none` reason that waives them), or null. */
export function missingGateReason(gate: GateSpec | null): string | null {
  if (gate === null) return "neither the task nor its stage defines a gate";
  if ((gate.commands ?? []).length === 0 && (gate.none ?? "").trim() === "") return "the gate has no commands";
  return null;
}

export async function runGate(run: GateRun): Promise<GateResult> {
  const attempt = await nextGateAttempt(run.db, run.task);
  const base = { task: run.task, attempt, headSha: run.headSha ?? null, reviewRequired: run.gate.review === "required" };
  const missing = missingGateReason(run.gate);
  if (missing !== null) return { ...base, passed: false, reason: missing, commands: [], review: null };
  const commands: GateCommandEvidence[] = [];
  for (const argv of run.gate.commands ?? []) {
    const evidence = await runGateCommand(run, attempt, argv);
    commands.push(evidence);
    if (evidence.state === "failed") {
      const why = evidence.timedOut ? `timed out after ${run.gate.timeoutMs ?? DEFAULT_GATE_TIMEOUT_MS} ms` : `exited ${evidence.exitCode}`;
      return finish(run, { ...base, passed: false, reason: `gate command \`${argv.join(" ")}\` ${why}`, commands, review: null });
    }
  }
  if (!base.reviewRequired) return finish(run, { ...base, passed: true, reason: null, commands, review: null });
  if (run.reviewer === undefined) return finish(run, { ...base, passed: false, reason: "the gate requires a review and no reviewer verdict is available", commands, review: null });
  const review = await runReview(run, attempt, run.reviewer);
  return finish(run, { ...base, passed: review.approved, reason: review.approved ? null : `review by ${review.reviewer} did not approve: ${review.summary}`, commands, review });
}

async function runGateCommand(run: GateRun, attempt: number, argv: readonly string[]): Promise<GateCommandEvidence> {
  const command = JSON.stringify(argv);
  const id = await immediateTransaction(run.db, async (trx) => {
    const rowId = await startGateRun(trx, { task: run.task, attempt, kind: "command", command });
    await appendEvent(trx, { actor: run.actor, action: "GateCommandStarted", subject: `task/${run.task}`, payload: { gate: rowId, attempt, command: argv, worktree: run.worktree } });
    return rowId;
  });
  const started = Date.now();
  // NOTE: separate stdout/stderr (not execa's interleaved `all`): measurably cheaper per command, and the tail keeps both.
  const result = await execa(argv[0]!, argv.slice(1), { cwd: run.worktree, reject: false, stdin: "ignore", timeout: run.gate.timeoutMs ?? DEFAULT_GATE_TIMEOUT_MS, env: { CI: "1" } });
  const durationMs = Date.now() - started;
  const passed = result.exitCode === 0 && !result.timedOut;
  const output = [String(result.stdout ?? ""), String(result.stderr ?? "")].filter((t) => t.length > 0).join("\n") + (result.exitCode === undefined && !result.timedOut ? `\n${result.shortMessage}` : "");
  const evidence: GateCommandEvidence = { id, command: argv, state: passed ? "passed" : "failed", exitCode: result.exitCode ?? null, timedOut: result.timedOut, durationMs, outputTail: output.slice(-TAIL_CHARS) };
  await immediateTransaction(run.db, async (trx) => {
    await finishGateRun(trx, id, { state: evidence.state, exitCode: evidence.exitCode, durationMs, outputTail: evidence.outputTail });
    await appendEvent(trx, { actor: run.actor, action: "GateCommandFinished", subject: `task/${run.task}`, payload: { gate: id, attempt, command: argv, state: evidence.state, exitCode: evidence.exitCode, timedOut: evidence.timedOut, durationMs } });
  });
  return evidence;
}

async function runReview(run: GateRun, attempt: number, reviewer: GateReviewer): Promise<ReviewVerdict> {
  const id = await startGateRun(run.db, { task: run.task, attempt, kind: "review", command: "review" });
  const started = Date.now();
  const verdict = await reviewer.review({ task: run.task, worktree: run.worktree, headSha: run.headSha ?? null });
  await finishGateRun(run.db, id, { state: verdict.approved ? "passed" : "failed", exitCode: null, durationMs: Date.now() - started, outputTail: `${verdict.reviewer}: ${verdict.summary}`.slice(-TAIL_CHARS) });
  return verdict;
}

async function finish(run: GateRun, result: GateResult): Promise<GateResult> {
  await appendEvent(run.db, {
    actor: run.actor,
    action: result.passed ? "GatePassed" : "GateFailed",
    subject: `task/${run.task}`,
    commitSha: result.headSha,
    payload: { attempt: result.attempt, reason: result.reason, commands: result.commands.map((c) => ({ gate: c.id, command: c.command, state: c.state, exitCode: c.exitCode })), review: result.review },
  });
  return result;
}
