import type { ResolvedAgent } from "../core/agent-profiles.js";
import { classify, hashScreen } from "../core/screen-status.js";
import { transitionCommand, type CommandRecord } from "../../state/commands.repository.js";
import type { SessionRecord } from "../../state/sessions.repository.js";
import { lastAgentEventId } from "../../state/agent-events.repository.js";
import { hasHooks, hookAckEvidence } from "../hooks/hook-evidence.js";
import { SCREEN_LINES, sleep, timingOf, type SessionServiceContext } from "./context.js";

export type DeliveryOutcome = "acknowledged" | "stranded" | "lost";

interface Delivery {
  readonly ctx: SessionServiceContext;
  readonly session: SessionRecord;
  readonly agent: ResolvedAgent;
  readonly command: CommandRecord;
  readonly owner: string;
  /** Hash of the screen just before delivery (from the observation that allowed it). */
  readonly screenHash: string;
}

const screenOf = (d: Delivery): Promise<string> => d.ctx.tmux.capturePane(d.session.tmuxName, SCREEN_LINES);

/** The end of the text's last non-blank line: what the echo must show (long pastes may be collapsed, so only that). */
export function echoProbe(text: string): string {
  const last = text.split("\n").map((l) => l.trim()).filter((l) => l !== "").pop() ?? "";
  return last.slice(-60);
}

/**
 * The delivery protocol for one claimed command (DESIGN section 3):
 * load-buffer + bracketed paste-buffer, wait for the echo (`typed`), Enter
 * (`submitted`), then a busy line or a screen change (`acknowledged`),
 * pressing Enter again a bounded number of times; else `stranded` with the
 * evidence. Every step is conditional on still holding the lease: `lost`
 * means another process (a restart, a close) took the command over.
 */
export async function deliverCommand(d: Delivery): Promise<DeliveryOutcome> {
  const timing = timingOf(d.ctx);
  const before = d.screenHash;
  // Agent events up to now are older than this delivery (null: the agent has no hooks).
  const sinceEvent = hasHooks(d.ctx, d.agent) ? await lastAgentEventId(d.ctx.db, d.session.id) : null;
  await d.ctx.tmux.pasteText(d.session.tmuxName, d.command.text);
  const echo = await waitForEcho(d, before, timing.echoTimeoutMs);
  if (echo === null) return strand(d, { reason: `the pasted text did not echo within ${timing.echoTimeoutMs} ms`, screenHash: before });
  const step = { owner: d.owner, actor: d.ctx.actor, leaseMs: timing.leaseMs };
  if (!(await transitionCommand(d.ctx.db, d.command.id, { ...step, to: "typed", from: ["issued"], evidence: echo }))) return "lost";
  for (let attempt = 1; attempt <= 1 + timing.maxEnterRetries; attempt++) {
    await d.ctx.tmux.sendEnter(d.session.tmuxName);
    const from = attempt === 1 ? (["typed"] as const) : (["submitted"] as const);
    if (!(await transitionCommand(d.ctx.db, d.command.id, { ...step, to: "submitted", from: [...from], evidence: { attempt, screenHash: echo.screenHash } }))) return "lost";
    const ack = await waitForAck(d, echo.screenHash, timing.enterRetryMs, { sinceEvent, screenCounts: sinceEvent === null || attempt > timing.maxEnterRetries });
    if (ack !== null) {
      const ok = await transitionCommand(d.ctx.db, d.command.id, { ...step, to: "acknowledged", from: ["submitted"], evidence: { ...ack, attempt } });
      return ok ? "acknowledged" : "lost";
    }
  }
  const tail = (await screenOf(d)).split("\n").slice(-6).join("\n");
  return strand(d, { reason: `no busy line or screen change after ${1 + timing.maxEnterRetries} Enter presses`, screenHash: echo.screenHash, screenTail: tail });
}

/**
 * Finishes a delivery a dead process left `typed` or `submitted`, from the
 * screen's evidence: when the text's echo is followed by output, the agent
 * took it (`acknowledged`); otherwise it still sits in the input box and
 * Enter completes it. The text is never typed a second time.
 */
export async function resumeDelivery(d: Delivery): Promise<DeliveryOutcome> {
  const timing = timingOf(d.ctx);
  const step = { owner: d.owner, actor: d.ctx.actor, leaseMs: timing.leaseMs };
  const history = await d.ctx.tmux.capturePane(d.session.tmuxName, 2000);
  const lines = history.split("\n");
  const probe = echoProbe(d.command.text);
  const echoAt = probe === "" ? -1 : lines.findLastIndex((l) => l.includes(probe));
  const after = echoAt === -1 ? [] : lines.slice(echoAt + 1).filter((l) => l.trim() !== "");
  if (echoAt !== -1 && after.length > 0) {
    const from = d.command.state === "typed" ? (["typed"] as const) : (["submitted"] as const);
    if (from[0] === "typed" && !(await transitionCommand(d.ctx.db, d.command.id, { ...step, to: "submitted", from: ["typed"], evidence: { resumed: true } }))) return "lost";
    const ok = await transitionCommand(d.ctx.db, d.command.id, { ...step, to: "acknowledged", from: ["submitted"], evidence: { by: "output-after-echo", resumed: true, line: after[0]!.trim().slice(0, 200) } });
    return ok ? "acknowledged" : "lost";
  }
  const echoed = hashScreen(await screenOf(d));
  for (let attempt = 1; attempt <= 1 + timing.maxEnterRetries; attempt++) {
    await d.ctx.tmux.sendEnter(d.session.tmuxName);
    if (!(await transitionCommand(d.ctx.db, d.command.id, { ...step, to: "submitted", from: ["typed", "submitted"], evidence: { attempt, resumed: true, screenHash: echoed } }))) return "lost";
    const ack = await waitForAck(d, echoed, timing.enterRetryMs);
    if (ack !== null) {
      const ok = await transitionCommand(d.ctx.db, d.command.id, { ...step, to: "acknowledged", from: ["submitted"], evidence: { ...ack, attempt, resumed: true } });
      return ok ? "acknowledged" : "lost";
    }
  }
  return strand(d, { reason: "a resumed delivery got no busy line or screen change", screenHash: echoed, resumed: true });
}

async function strand(d: Delivery, evidence: Record<string, unknown>): Promise<DeliveryOutcome> {
  const ok = await transitionCommand(d.ctx.db, d.command.id, { to: "stranded", from: ["issued", "typed", "submitted"], owner: d.owner, actor: d.ctx.actor, evidence });
  return ok ? "stranded" : "lost";
}

/** Echo: the screen changed and shows the text's last line; or (collapsed pastes) changed and then held still. */
async function waitForEcho(d: Delivery, before: string, timeoutMs: number): Promise<{ echo: "verbatim" | "changed"; screenHash: string } | null> {
  const probe = echoProbe(d.command.text);
  const deadline = Date.now() + timeoutMs;
  let lastHash = before;
  let stableSince = Date.now();
  for (;;) {
    const screen = await screenOf(d);
    const hash = hashScreen(screen);
    if (hash !== before && screen.includes(probe)) return { echo: "verbatim", screenHash: hash };
    if (hash !== lastHash) stableSince = Date.now();
    lastHash = hash;
    if (hash !== before && Date.now() - stableSince >= 300) return { echo: "changed", screenHash: hash };
    if (Date.now() > deadline) return null;
    await sleep(timingOf(d.ctx).deliveryPollMs);
  }
}

/**
 * Acknowledged: the agent's own prompt-submitted hook reports this text; or
 * (when `screenCounts`: the agent reports no hooks, or the last Enter) a busy
 * rule matches or the screen differs from the echoed one.
 */
async function waitForAck(d: Delivery, echoed: string, timeoutMs: number, hooks: { sinceEvent: number | null; screenCounts: boolean } = { sinceEvent: null, screenCounts: true }): Promise<Record<string, unknown> | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hooked = hooks.sinceEvent === null ? null : await hookAckEvidence(d.ctx.db, d.session.id, hooks.sinceEvent, d.command.text);
    if (hooked !== null) return hooked;
    if (!hooks.screenCounts) {
      if (Date.now() > deadline) return null;
      await sleep(timingOf(d.ctx).deliveryPollMs);
      continue;
    }
    const screen = await screenOf(d);
    const seen = classify(screen, d.agent.rules, { stableForMs: 0, idleAfterMs: d.agent.idleAfterMs, tailLines: d.agent.statusLines });
    if (seen.status === "running" && seen.ruleKind === "busy") return { by: "busy", rule: seen.ruleId, matched: seen.matched, screenHash: seen.screenHash };
    if (seen.screenHash !== echoed) return { by: "screen-change", rule: seen.ruleId, matched: seen.matched, screenHash: seen.screenHash };
    if (Date.now() > deadline) return null;
    await sleep(timingOf(d.ctx).deliveryPollMs);
  }
}
