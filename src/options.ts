/**
 * Checks shared by every options object and argument of the public API:
 * unknown keys are refused with the closest valid key, and wrong values are
 * quoted with their type so the message says what was passed.
 */
import { InvalidArgument } from "./errors.ts";

/**
 * Refuses keys of `options` that are not in `allowed`, naming the closest valid
 * key: a misspelled option must not be silently ignored. `what` names the call,
 * e.g. `RabitqPlusIndex.build options`; `toError` makes the module's own typed
 * error from the message (default {@link InvalidArgument}).
 */
export function checkOptionKeys(options: unknown, allowed: readonly string[], what: string, toError: (message: string) => Error = (m) => new InvalidArgument(m)): void {
  const problem = optionKeysProblem(options, allowed, what);
  if (problem !== undefined) throw toError(problem);
}

/** What {@link checkOptionKeys} would refuse, as a message, or `undefined` when `options` is fine. */
export function optionKeysProblem(options: unknown, allowed: readonly string[], what: string): string | undefined {
  if (typeof options !== "object" || options === null || Array.isArray(options)) return `${what} must be an object, got ${describeValue(options)}`;
  for (const key of Object.keys(options)) {
    if (allowed.includes(key)) continue;
    const closest = closestKey(key, allowed);
    const hint = closest === undefined ? "" : `; did you mean "${closest}"?`;
    return `unknown option "${key}" in ${what}${hint} (valid: ${allowed.join(", ")})`;
  }
  return undefined;
}

/**
 * The keys of an options type, given as a record so the compiler checks that
 * the list names every key of `T` and nothing else.
 */
export function optionKeys<T extends object>(keys: Record<keyof T, true>): readonly string[] {
  return Object.keys(keys);
}

/** The valid key a typo most likely meant: same letters in another case, a prefix of it, else within a few edits. */
export function closestKey(key: string, allowed: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  const folded = allowed.find((k) => k.toLowerCase() === lower) ?? allowed.find((k) => lower.length >= 4 && k.toLowerCase().startsWith(lower));
  if (folded !== undefined) return folded;
  let best: { key: string; distance: number } | undefined;
  for (const candidate of allowed) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance <= Math.max(2, Math.floor(candidate.length / 3)) && (!best || distance < best.distance)) best = { key: candidate, distance };
  }
  return best?.key;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** A value as a message shows it: quoted, shortened, with its type (`[0.1, 0.2, …] (Array of 128)`). */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === "string") return `${JSON.stringify(value.length > 40 ? `${value.slice(0, 39)}…` : value)} (string)`;
  if (typeof value === "bigint") return `${value}n (bigint)`;
  if (typeof value === "function") return `${value.name || "anonymous"} (function)`;
  if (typeof value !== "object") return `${String(value)} (${typeof value})`;
  if (Array.isArray(value)) return `[${value.slice(0, 3).map(String).join(", ")}${value.length > 3 ? ", …" : ""}] (Array of ${value.length})`;
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${(value as unknown as ArrayLike<unknown>).length ?? value.byteLength})`;
  return `${value.constructor?.name ?? "Object"} object`;
}

/** How to turn a value of the wrong kind into a `Float32Array`, when there is an obvious way. */
export function float32Hint(value: unknown): string {
  const convertible = Array.isArray(value) || (ArrayBuffer.isView(value) && !(value instanceof DataView));
  return convertible ? "; convert it with Float32Array.from(...)" : "";
}
