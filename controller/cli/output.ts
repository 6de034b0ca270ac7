/** Writers for the two output modes: text for people, JSON for scripts (stdout only). */

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

export function printLine(line = ""): void {
  process.stdout.write(line + "\n");
}

export { formatTable } from "../app/text.js";
