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

/**
 * One object written as `JSON.stringify(object, null, 2)` and a newline
 * would write it, field by field, with one field an array whose items are
 * written as they come: the object is never held whole. Writes go out in
 * pieces of about 64 KB.
 */
export class PrettyObjectWriter {
  private buffer = "";
  private fields = 0;
  /** Items written to the open array; -1: none open. */
  private items = -1;

  constructor(private readonly write: (text: string) => void) {}

  /** Every field of `object` JSON.stringify would write, in order. */
  fieldsOf(object: object): void {
    for (const [key, value] of Object.entries(object)) if (!isOmitted(value)) this.field(key, value);
  }

  field(key: string, value: unknown): void {
    this.key(key);
    for (const chunk of prettyJsonChunks(value, 1, "  ")) this.put(chunk);
  }

  /** Opens an array field; `item` adds to it until `closeArray`. */
  openArray(key: string): void {
    this.key(key);
    this.put("[");
    this.items = 0;
  }

  item(value: unknown): void {
    this.put(this.items === 0 ? "\n    " : ",\n    ");
    this.items += 1;
    // Whole: one row of the array is small.
    this.put((JSON.stringify(value, null, 2) ?? "null").replaceAll("\n", "\n    "));
  }

  closeArray(): void {
    this.put(this.items === 0 ? "]" : "\n  ]");
    this.items = -1;
  }

  /** Closes the object and writes what is left. */
  end(): void {
    this.write(`${this.buffer}${this.fields === 0 ? "{}" : "\n}"}\n`);
    this.buffer = "";
  }

  private key(key: string): void {
    this.put(`${this.fields === 0 ? "{" : ","}\n  ${JSON.stringify(key)}: `);
    this.fields += 1;
  }

  private put(text: string): void {
    this.buffer += text;
    if (this.buffer.length >= 65_536) {
      this.write(this.buffer);
      this.buffer = "";
    }
  }
}
