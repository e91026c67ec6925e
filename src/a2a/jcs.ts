/**
 * Canonical JSON: compact, object keys sorted recursively. Two orders are needed:
 * RFC 8785 (JCS, A2A 1.0 card signatures) sorts keys by UTF-16 code units; rvAgent
 * (serde_json over a BTreeMap) sorts them by UTF-8 bytes, which is code point order.
 * Numbers and strings use ECMAScript serialisation, which is what RFC 8785 prescribes.
 * @module
 */

/** How object keys are ordered. */
export type KeyOrder = "utf16" | "codepoint";

/** RFC 8785 canonical form of `value`. */
export function jcs(value: unknown): string {
  return canonicalJson(value, "utf16");
}

/** Compact JSON of `value` with keys sorted recursively in `order`. */
export function canonicalJson(value: unknown, order: KeyOrder): string {
  const compare = order === "utf16" ? compareUtf16 : compareCodePoints;
  return write(value, compare);
}

type Compare = (a: string, b: string) => number;

function write(value: unknown, compare: Compare): string {
  if (value === null || typeof value === "boolean") return String(value);
  if (typeof value === "number") return writeNumber(value);
  if (typeof value === "string") return writeString(value);
  if (Array.isArray(value)) return `[${value.map((item) => write(item ?? null, compare)).join(",")}]`;
  if (typeof value === "object") return writeObject(value as Record<string, unknown>, compare);
  throw new TypeError(`cannot canonicalise a ${typeof value}`);
}

function writeObject(object: Record<string, unknown>, compare: Compare): string {
  const keys = Object.keys(object).filter((key) => object[key] !== undefined).sort(compare);
  return `{${keys.map((key) => `${writeString(key)}:${write(object[key], compare)}`).join(",")}}`;
}

function writeNumber(value: number): string {
  if (!Number.isFinite(value)) throw new TypeError(`cannot canonicalise the number ${value}`);
  return JSON.stringify(value);
}

function writeString(value: string): string {
  if (!value.isWellFormed()) throw new TypeError("cannot canonicalise a string with a lone surrogate");
  return JSON.stringify(value);
}

function compareUtf16(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareCodePoints(a: string, b: string): number {
  const left = Array.from(a, (char) => char.codePointAt(0) ?? 0);
  const right = Array.from(b, (char) => char.codePointAt(0) ?? 0);
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const diff = (left[i] ?? 0) - (right[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return left.length - right.length;
}
