import { Parser, type YAMLError } from "yaml";

/** The syntax problem shown for one YAML document: where the mistake starts, and what it is. */
export interface SyntaxProblem {
  /** Character offset into the file text. */
  readonly offset: number;
  readonly message: string;
}

/** Lower sorts first among errors at the same offset: the clearer message wins. */
function rank(error: YAMLError): number {
  if (error.code === "MULTILINE_IMPLICIT_KEY") return 0;
  return error.code === "BLOCK_AS_IMPLICIT_KEY" ? 2 : 1;
}

/**
 * Only the first error of a document is shown: the rest are nearly always
 * consequences of it. Errors the parser notices late (an unclosed quote or
 * bracket) are moved back to the character that opened it.
 */
export function firstSyntaxProblem(text: string, errors: readonly YAMLError[], lineOf: (offset: number) => number): SyntaxProblem {
  const error = [...errors].sort((a, b) => a.pos[0] - b.pos[0] || rank(a) - rank(b))[0]!;
  const at = error.pos[0];
  const yamlMessage = error.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
  const flow = /end with a ([\]}])/.exec(yamlMessage);
  if (flow !== null) {
    const open = flow[1] === "]" ? "[" : "{";
    const offset = findUnclosed(text, at, (token) => token.type === "flow-collection" && token.start?.source === open && !(token.end ?? []).some((t) => t.source === flow[1]));
    return { offset: offset ?? at, message: `"${open}" opened here is never closed with "${flow[1]}"` };
  }
  if (error.code === "MISSING_CHAR" && /closing .?quote/.test(yamlMessage)) {
    const offset = findUnclosed(text, at, (token) => /quoted-scalar$/.test(token.type) && !isClosedQuote(token.source ?? ""));
    return { offset: offset ?? at, message: "the quoted string opened here is never closed" };
  }
  if (error.code === "DUPLICATE_KEY") {
    const key = /^("[^"\n]*"|'[^'\n]*'|[^:#\n]*?)\s*:/.exec(text.slice(at))?.[1];
    return { offset: at, message: key === undefined ? yamlMessage : `duplicate key ${/^["']/.test(key) ? key : JSON.stringify(key)} (keys of a mapping must be unique)` };
  }
  if (error.code === "MULTILINE_IMPLICIT_KEY") {
    const line = lineOf(error.pos[1]);
    return { offset: at, message: `a key must fit on one line, but the text here runs on into line ${line}; check the indentation of line ${line}` };
  }
  return { offset: at, message: yamlMessage };
}

function isClosedQuote(source: string): boolean {
  const quote = source[0];
  if (source.length < 2 || !source.endsWith(quote!)) return false;
  if (quote === "'") return true;
  const trailingBackslashes = /\\*$/.exec(source.slice(0, -1))![0].length;
  return trailingBackslashes % 2 === 0;
}

interface Token {
  readonly type: string;
  readonly offset: number;
  readonly source?: string;
  readonly start?: { readonly source: string };
  readonly end?: readonly { readonly source: string }[];
}

/** Offset of the last CST token before `before` that matches (an unclosed opener). */
function findUnclosed(text: string, before: number, matches: (token: Token) => boolean): number | undefined {
  let found: number | undefined;
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) walk(item);
      return;
    }
    if (value === null || typeof value !== "object") return;
    const token = value as Token;
    if (typeof token.type === "string" && typeof token.offset === "number" && token.offset <= before && matches(token)) {
      if (found === undefined || token.offset > found) found = token.offset;
    }
    for (const child of Object.values(value)) walk(child);
  };
  for (const token of new Parser().parse(text)) walk(token);
  return found;
}
