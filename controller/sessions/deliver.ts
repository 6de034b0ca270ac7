import type { ResolvedAgent } from "../core/agent-profiles.js";
import { countEchoes, echoProbe, readInputLine } from "../core/input-line.js";
import { classify, hashScreen } from "../core/screen-status.js";
import { markBusySeen, recordPasteIntent, transitionCommand, type CommandRecord } from "../../state/commands.repository.js";
import type { SessionRecord } from "../../state/sessions.repository.js";
import { lastAgentEventId } from "../../state/agent-events.repository.js";
import { hasHooks, hookAckEvidence } from "../hooks/hook-evidence.js";
import { failpoint, SCREEN_LINES, sleep, timingOf, type SessionServiceContext } from "./context.js";

export { echoProbe } from "../core/input-line.js";

/** `held`: nothing was typed (the input line holds someone else's text); the command stays queued. */
export type DeliveryOutcome = "acknowledged" | "stranded" | "lost" | "held";

export interface Delivery {
  readonly ctx: SessionServiceContext;
  readonly session: SessionRecord;
  readonly agent: ResolvedAgent;
  readonly command: CommandRecord;
  readonly owner: string;
  /** Hash of the screen just before delivery (from the observation that allowed it). */
  readonly screenHash: string;
  /** The agent asks a question mid-turn and this text answers it: its input line is not the one in use. */
  readonly answering?: boolean;
  /** Evidence of a resumed delivery (a dead deliverer's paste proved absent), kept on the `typed` row. */
  readonly resumed?: Readonly<Record<string, unknown>>;
}

/** Lines of history read to count a text's echoes. */
export const HISTORY_LINES = 2000;

export const screenOf = (d: Delivery): Promise<string> => d.ctx.tmux.capturePane(d.session.tmuxName, SCREEN_LINES);
export const historyOf = (d: Delivery): Promise<string> => d.ctx.tmux.capturePane(d.session.tmuxName, HISTORY_LINES);
/** The visible screen within a history capture (the same text `screenOf` returns): one tmux call instead of two. */
export const screenIn = (history: string): string => history.split("\n").slice(-SCREEN_LINES).join("\n");
export const stepOf = (d: Delivery): { owner: string; actor: string; leaseMs: number } => ({ owner: d.owner, actor: d.ctx.actor, leaseMs: timingOf(d.ctx).leaseMs });

/**
 * The delivery protocol for one claimed command (DESIGN section 3):
 * read the input line (never paste onto text that is not gaffer's), record
 * the intent (what the input line held, how often the text already echoed),
 * load-buffer + bracketed paste-buffer, wait for the echo (`typed`), then
 * Enter until acknowledged (see `submit`). Every step is conditional on still
 * holding the lease: `lost` means another process took the command over.
 */
export async function deliverCommand(d: Delivery): Promise<DeliveryOutcome> {
  const timing = timingOf(d.ctx);
  const history = await historyOf(d);
  const screen = screenIn(history);
  const input = d.answering === true ? ({ kind: "unreadable" } as const) : readInputLine(screen, d.agent, d.command.text);
  if (input.kind === "text") return "held";
  // Agent events up to now are older than this delivery (null: the agent has no hooks).
  const sinceEvent = hasHooks(d.ctx, d.agent) ? await lastAgentEventId(d.ctx.db, d.session.id) : null;
  const intent = { owner: d.owner, at: new Date().toISOString(), input: input.kind, echoes: countEchoes(history, d.command.text), screenHash: hashScreen(screen), hookEvent: sinceEvent };
  if (!(await recordPasteIntent(d.ctx.db, d.command.id, intent, d.ctx.actor))) return "lost";
  failpoint("after-intent");
  const before = hashScreen(screen);
  await d.ctx.tmux.pasteText(d.session.tmuxName, d.command.text);
  failpoint("after-paste");
  const echo = await waitForEcho(d, before, timing.echoTimeoutMs);
  if (echo === null) return strand(d, { reason: `the pasted text did not echo within ${timing.echoTimeoutMs} ms`, screenHash: before });
  if (!(await transitionCommand(d.ctx.db, d.command.id, { ...stepOf(d), to: "typed", from: ["issued"], evidence: { ...echo, ...d.resumed } }))) return "lost";
  failpoint("after-typed");
  return submit(d, echo.screenHash, { ...d.resumed }, sinceEvent);
}

/**
 * Presses Enter (`submitted`) and waits for a busy line or a screen change
 * (`acknowledged`), pressing Enter again a bounded number of times; else
 * `stranded` with the evidence. A busy line seen here counts toward `done`.
 */
export async function submit(d: Delivery, echoed: string, extra: Record<string, unknown>, sinceEvent: number | null = null): Promise<DeliveryOutcome> {
  const timing = timingOf(d.ctx);
  for (let attempt = 1; attempt <= 1 + timing.maxEnterRetries; attempt++) {
    await d.ctx.tmux.sendEnter(d.session.tmuxName);
    failpoint("after-enter");
    if (!(await transitionCommand(d.ctx.db, d.command.id, { ...stepOf(d), to: "submitted", from: ["typed", "submitted"], evidence: { attempt, screenHash: echoed, ...extra } }))) return "lost";
    const ack = await waitForAck(d, echoed, timing.enterRetryMs, { sinceEvent, screenCounts: sinceEvent === null || attempt > timing.maxEnterRetries });
    if (ack !== null) {
      const ok = await transitionCommand(d.ctx.db, d.command.id, { ...stepOf(d), to: "acknowledged", from: ["submitted"], evidence: { ...ack, attempt, ...extra } });
      if (ok && ack.by === "busy") await markBusySeen(d.ctx.db, d.session.id);
      return ok ? "acknowledged" : "lost";
    }
  }
  const tail = (await screenOf(d)).split("\n").slice(-6).join("\n");
  return strand(d, { reason: `no busy line or screen change after ${1 + timing.maxEnterRetries} Enter presses`, screenHash: echoed, screenTail: tail, ...extra });
}

export async function strand(d: Delivery, evidence: Record<string, unknown>): Promise<DeliveryOutcome> {
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
async function waitForAck(d: Delivery, echoed: string, timeoutMs: number, hooks: { sinceEvent: number | null; screenCounts: boolean }): Promise<Record<string, unknown> | null> {
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
