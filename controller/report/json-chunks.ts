/**
 * Pure: `JSON.stringify(value, null, 2)` in pieces, byte for byte the same
 * text, so a large report is written without ever holding it as one string.
 * Objects and arrays are split down to `depth` levels; below that each value
 * is stringified whole.
 */
export function* prettyJsonChunks(value: unknown, depth = 2, indent = ""): Generator<string> {
  if (depth === 0 || value === null || typeof value !== "object" || typeof (value as { toJSON?: unknown }).toJSON === "function") {
    yield (JSON.stringify(value, null, 2) ?? "null").replaceAll("\n", `\n${indent}`);
    return;
  }
  const inner = `${indent}  `;
  const entries: [string | null, unknown][] = Array.isArray(value)
    ? value.map((v) => [null, isOmitted(v) ? null : v])
    : Object.entries(value).filter(([, v]) => !isOmitted(v));
  const [open, close] = Array.isArray(value) ? ["[", "]"] : ["{", "}"];
  if (entries.length === 0) {
    yield `${open}${close}`;
    return;
  }
  yield `${open}\n`;
  for (let i = 0; i < entries.length; i++) {
    const [key, v] = entries[i]!;
    yield key === null ? inner : `${inner}${JSON.stringify(key)}: `;
    yield* prettyJsonChunks(v, depth - 1, inner);
    yield i < entries.length - 1 ? ",\n" : "\n";
  }
  yield `${indent}${close}`;
}

/** What JSON.stringify leaves out of an object (and writes as null in an array). */
function isOmitted(v: unknown): boolean {
  return v === undefined || typeof v === "function" || typeof v === "symbol";
}

/** Writes `value` as pretty JSON and a newline, in writes of about 64 KB (stdout to a pipe or file is synchronous on Linux). */
export function writeJsonChunked(value: unknown, write: (text: string) => void): void {
  let buffer = "";
  for (const chunk of prettyJsonChunks(value)) {
    buffer += chunk;
    if (buffer.length >= 65_536) {
      write(buffer);
      buffer = "";
    }
  }
  write(`${buffer}\n`);
}
