/** Writers for the two output modes: text for people, JSON for scripts (stdout only). */

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

export function printLine(line = ""): void {
  process.stdout.write(line + "\n");
}

/** A plain aligned table; `columns` gives header and cell getter. */
export function formatTable<T>(rows: readonly T[], columns: readonly (readonly [string, (row: T) => string])[]): string {
  const cells = rows.map((row) => columns.map(([, get]) => get(row)));
  const widths = columns.map(([header], i) => Math.max(header.length, ...cells.map((c) => c[i]!.length)));
  const line = (values: readonly string[]): string => values.map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(columns.map(([h]) => h)), ...cells.map(line)].join("\n");
}
