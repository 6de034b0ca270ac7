/** What an agent's input line holds, as far as its profile can read it. */
export type InputLine =
  | { readonly kind: "empty" }
  /** Text is typed in it; `ours` when it shows the end of the text gaffer is delivering (or a collapsed paste). */
  | { readonly kind: "text"; readonly content: string; readonly ours: boolean }
  /** The profile has no input-line rule, or no line matched it. */
  | { readonly kind: "unreadable" };

/** The input-line rules of a (resolved) agent profile. */
export interface InputLineRules {
  readonly inputLine: string | null;
  readonly inputPlaceholder: string | null;
}

// NOTE: claude and codex collapse long pastes into a marker instead of echoing them.
const COLLAPSED_PASTE = /\[Pasted (text|Content) /;

/** The end of a text's last non-blank line: what its echo must show (long pastes may be collapsed, so only that). */
export function echoProbe(text: string): string {
  const last = text.split("\n").map((l) => l.trim()).filter((l) => l !== "").pop() ?? "";
  return last.slice(-60);
}

/**
 * Reads the input line: the last screen line matching the profile's
 * `inputLine` rule, with the lines below it (a multi-line paste continues
 * there). A placeholder counts as empty. `text` is the text being delivered,
 * to tell gaffer's own paste from someone else's typing.
 */
export function readInputLine(screen: string, rules: InputLineRules, text: string): InputLine {
  if (rules.inputLine === null) return { kind: "unreadable" };
  const re = new RegExp(rules.inputLine);
  const lines = screen.split("\n").map((l) => l.replace(/\s+$/, ""));
  let at = -1;
  for (let i = lines.length - 1; i >= 0 && at === -1; i--) if (re.test(lines[i]!)) at = i;
  if (at === -1) return { kind: "unreadable" };
  const content = (re.exec(lines[at]!)?.[1] ?? "").trim();
  const placeholder = rules.inputPlaceholder === null ? null : new RegExp(rules.inputPlaceholder);
  if (content === "" || (placeholder !== null && placeholder.test(content))) return { kind: "empty" };
  const region = [content, ...lines.slice(at + 1)].join("\n");
  const probe = echoProbe(text);
  const ours = (probe !== "" && region.includes(probe)) || COLLAPSED_PASTE.test(content);
  return { kind: "text", content: content.slice(0, 200), ours };
}

/** How many times a text's echo appears in a pane's history (to tell a submitted copy from an older one). */
export function countEchoes(history: string, text: string): number {
  const probe = echoProbe(text);
  if (probe === "") return 0;
  return history.split("\n").filter((l) => l.includes(probe)).length;
}
