import { countEchoes, echoProbe, readInputLine, type InputLine } from "../core/input-line.js";
import { classify, hashScreen } from "../core/screen-status.js";
import { hookAckEvidence } from "../hooks/hook-evidence.js";
import { clearPasteIntent, transitionCommand } from "../../state/commands.repository.js";
import { sleep, timingOf } from "./context.js";
import { deliverCommand, historyOf, screenIn, screenOf, stepOf, strand, submit, type Delivery, type DeliveryOutcome } from "./deliver.js";

/** What the screen says about a command a dead deliverer left behind. */
type Finding = "in-input" | "submitted" | "absent" | "foreign" | "unclear";

/**
 * Pure decision from evidence: the text sits in the input line (finish with
 * Enter), it left the input line and its echo is in the history (the agent
 * took it), it never arrived (paste it), or the input line holds text gaffer
 * cannot prove is its own (never paste onto it, never clear it). `busy`: a
 * busy rule matches the screen now.
 */
export function findResumeEvidence(input: InputLine, echoesNow: number, command: Delivery["command"], busy: boolean): Finding {
  const echoesBefore = command.pasteIntent?.echoes ?? 0;
  // Working: the agent took a text (the FIFO types nothing while it works on an earlier one).
  if (busy && (command.state !== "issued" || echoesNow > echoesBefore)) return "submitted";
  if (input.kind === "text") return input.ours ? "in-input" : "foreign";
  if (input.kind === "empty") {
    if (command.state !== "issued") return "submitted";
    return echoesNow > echoesBefore ? "submitted" : "absent";
  }
  if (command.state === "issued" && echoesNow <= echoesBefore) return "absent";
  return "unclear";
}

/**
 * Finishes a delivery a dead process left behind: `issued` with a recorded
 * paste intent, `typed` or `submitted`. The text is typed again only when
 * the screen proves it never arrived; a text already in the input line is
 * submitted with Enter; a text the agent already took is acknowledged.
 */
export async function resumeDelivery(d: Delivery): Promise<DeliveryOutcome> {
  // The agent's own hook reports the text submitted: it took it, whatever the screen shows.
  const hooked = d.command.pasteIntent !== null && typeof d.command.pasteIntent.hookEvent === "number" ? await hookAckEvidence(d.ctx.db, d.session.id, d.command.pasteIntent.hookEvent, d.command.text) : null;
  if (hooked !== null) return acknowledge(d, { ...hooked, resumed: true });
  let seen = await look(d);
  // A paste begun moments ago may not have echoed yet: give it the echo timeout before calling it absent.
  const pastedAt = d.command.pasteIntent === null ? 0 : Date.parse(d.command.pasteIntent.at);
  const echoDue = pastedAt + timingOf(d.ctx).echoTimeoutMs;
  if (seen.finding === "absent" && Date.now() < echoDue) {
    await sleep(echoDue - Date.now());
    seen = await look(d);
  }
  const { history, screen, input, finding } = seen;
  const evidence = { resumed: true, finding, ...(input.kind === "text" ? { input: input.content } : {}) };
  switch (finding) {
    case "absent":
      await clearPasteIntent(d.ctx.db, d.command.id, d.owner);
      return deliverCommand({ ...d, command: { ...d.command, pasteIntent: null }, resumed: evidence });
    case "foreign":
      return strand(d, { reason: "the agent's input line holds text gaffer did not type; it is never pasted onto or cleared", ...evidence });
    case "in-input":
      if (d.command.state === "issued" && !(await transitionCommand(d.ctx.db, d.command.id, { ...stepOf(d), to: "typed", from: ["issued"], evidence: { ...evidence, screenHash: hashScreen(screen) } }))) return "lost";
      return submit(d, hashScreen(screen), evidence);
    case "submitted":
      return acknowledge(d, { ...evidence, by: "input-line-cleared" });
    case "unclear":
      return resumeFromHistory(d, history, evidence);
  }
}

async function look(d: Delivery): Promise<{ history: string; screen: string; input: InputLine; finding: Finding }> {
  const history = await historyOf(d);
  const screen = screenIn(history);
  const input = readInputLine(screen, d.agent, d.command.text);
  const busy = classify(screen, d.agent.rules, { stableForMs: 0, idleAfterMs: d.agent.idleAfterMs, tailLines: d.agent.statusLines }).ruleKind === "busy";
  return { history, screen, input, finding: findResumeEvidence(input, countEchoes(history, d.command.text), d.command, busy) };
}

async function acknowledge(d: Delivery, evidence: Record<string, unknown>): Promise<DeliveryOutcome> {
  for (const to of ["typed", "submitted"] as const) {
    const from = to === "typed" ? (["issued"] as const) : (["typed"] as const);
    await transitionCommand(d.ctx.db, d.command.id, { ...stepOf(d), to, from: [...from], evidence });
  }
  const ok = await transitionCommand(d.ctx.db, d.command.id, { ...stepOf(d), to: "acknowledged", from: ["submitted"], evidence });
  return ok ? "acknowledged" : "lost";
}

/** No readable input line: the text's echo followed by output means the agent took it; otherwise Enter completes it. */
async function resumeFromHistory(d: Delivery, history: string, evidence: Record<string, unknown>): Promise<DeliveryOutcome> {
  const lines = history.split("\n");
  const probe = echoProbe(d.command.text);
  const echoAt = probe === "" ? -1 : lines.findLastIndex((l) => l.includes(probe));
  const after = echoAt === -1 ? [] : lines.slice(echoAt + 1).filter((l) => l.trim() !== "");
  if (echoAt !== -1 && after.length > 0) return acknowledge(d, { ...evidence, by: "output-after-echo", line: after[0]!.trim().slice(0, 200) });
  if (d.command.state === "issued" && !(await transitionCommand(d.ctx.db, d.command.id, { ...stepOf(d), to: "typed", from: ["issued"], evidence }))) return "lost";
  return submit(d, hashScreen(await screenOf(d)), evidence);
}
