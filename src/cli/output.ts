/** Printing results: one JSON document, or aligned text for people. */

/** `JSON.rawJSON` (Bun has it; TypeScript's lib does not declare it yet). */
const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

/**
 * Writes `value` as one line of JSON to stdout. Bigints (64-bit seeds) are
 * written as exact integer literals: numbers stay numbers, digits are never lost.
 */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, (_, v: unknown) => (typeof v === "bigint" ? rawJSON(v.toString()) : v)) + "\n");
}

/** Rows of cells as text, every column but the last padded to its widest cell. */
export function table(rows: ReadonlyArray<ReadonlyArray<string | number>>, indent = ""): string {
  const cells = rows.map((row) => row.map(String));
  const widths: number[] = [];
  for (const row of cells) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return cells.map((row) => indent + row.map((cell, i) => (i < row.length - 1 ? cell.padEnd(widths[i]!) : cell)).join("  ") + "\n").join("");
}

/** Writes `label  value` lines to stdout, labels aligned. */
export function printFields(fields: ReadonlyArray<readonly [string, string | number]>): void {
  process.stdout.write(table(fields));
}

/** Milliseconds with one decimal: enough for build and search timings. */
export function formatMs(ms: number): string {
  return `${ms.toFixed(1)} ms`;
}
