/**
 * Defensive readers for JSON that comes from a peer. Each throws a `TypeError` naming the
 * offending path; callers turn it into the error their side of the wire needs.
 * @module
 */

/** A parsed JSON object. */
export type JsonObject = Record<string, unknown>;

/** True for a plain JSON object (not an array, not null). */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `value` as an object, or a `TypeError` naming `path`. */
export function asObject(value: unknown, path: string): JsonObject {
  if (!isObject(value)) throw new TypeError(`${path} must be an object`);
  return value;
}

/** `value` as an array, or a `TypeError` naming `path`. */
export function asArray(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw new TypeError(`${path} must be an array`);
  return value;
}

/** An optional array, each item read by `item` with its own path (`path[i]`); absent is empty. */
export function optArrayOf<T>(value: unknown, path: string, item: (value: unknown, path: string) => T): T[] {
  return value === undefined ? [] : asArray(value, path).map((v, i) => item(v, `${path}[${i}]`));
}

/** `value` as a string, or a `TypeError` naming `path`. */
export function asString(value: unknown, path: string): string {
  if (typeof value !== "string") throw new TypeError(`${path} must be a string`);
  return value;
}

/** `value` as a string when present (undefined or null ⇒ undefined). */
export function optString(value: unknown, path: string): string | undefined {
  return value === undefined || value === null ? undefined : asString(value, path);
}

/** `value` as a finite number when present (undefined or null ⇒ undefined). */
export function optNumber(value: unknown, path: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new TypeError(`${path} must be a finite number`);
  }
  return value;
}

/** `value` as a safe integer when present (undefined or null ⇒ undefined). */
export function optInteger(value: unknown, path: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Number.isSafeInteger(value)) throw new TypeError(`${path} must be an integer`);
  return value as number;
}

/** `value` as a boolean when present (undefined or null ⇒ undefined). */
export function optBoolean(value: unknown, path: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean") throw new TypeError(`${path} must be a boolean`);
  return value;
}

/** `value` as an object when present (undefined or null ⇒ undefined). */
export function optObject(value: unknown, path: string): JsonObject | undefined {
  return value === undefined || value === null ? undefined : asObject(value, path);
}

const FREE_FORM_KEYS: ReadonlySet<string> = new Set(["metadata", "data"]);

/**
 * Proto3 JSON parsers accept a field's proto name (`history_length`) as well as its JSON
 * name (`historyLength`): this renames the first to the second, recursively, leaving the
 * free-form `metadata` and `data` values as they are.
 */
export function protoJsonNames(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(protoJsonNames);
  if (!isObject(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => {
    const name = key.includes("_") ? key.replace(/_([a-z0-9])/g, (_, char: string) => char.toUpperCase()) : key;
    return [name, FREE_FORM_KEYS.has(name) ? item : protoJsonNames(item)];
  }));
}

/** `value` without its undefined members, so optional fields stay absent on the wire. */
export function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as T;
}

/** Default deepest nesting of arrays and objects accepted in JSON from a peer. */
export const MAX_JSON_DEPTH = 64;

/** JSON nested deeper than the limit: refused before parsing, so no recursion over it can overflow the stack. */
export class JsonTooDeep extends TypeError {}

/**
 * `JSON.parse` that first refuses nesting deeper than `maxDepth` (as {@link JsonTooDeep})
 * and reports invalid JSON as a `TypeError` naming `what`.
 */
export function parseJson(text: string, what: string, maxDepth = MAX_JSON_DEPTH): unknown {
  const depth = nestingDepth(text, maxDepth);
  if (depth > maxDepth) throw new JsonTooDeep(`${what} nests deeper than ${maxDepth} levels`);
  try {
    return JSON.parse(text);
  } catch {
    throw new TypeError(`${what} is not valid JSON`);
  }
}

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** The deepest nesting of `text` (outside strings), counting stops once past `limit`. */
function nestingDepth(text: string, limit: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === BACKSLASH) i++;
      else if (code === QUOTE) inString = false;
    } else if (code === QUOTE) {
      inString = true;
    } else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      deepest = Math.max(deepest, ++depth);
      if (deepest > limit) return deepest;
    } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
      depth--;
    }
  }
  return deepest;
}
