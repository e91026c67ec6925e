/**
 * The exact bytes each card-signature scheme signs.
 * @module
 */
import { canonicalJson, jcs } from "./jcs.ts";
import { isObject, type JsonObject } from "./json.ts";

const utf8 = new TextEncoder();

/**
 * A2A 1.0 §8.4.1: RFC 8785 JCS of the card without `signatures`, with default-valued fields
 * dropped the way protobuf JSON and `@a2a-js/sdk` drop them (null, "", empty lists and
 * objects, and `false` in the two non-optional booleans of the card schema). Unlike the SDK,
 * fields outside the schema are kept, so the signature covers everything this client reads.
 */
export function a2aCardSigningInput(card: JsonObject): Uint8Array {
  const { signatures: _signatures, ...unsigned } = card;
  return utf8.encode(jcs(withoutDefaults(unsigned, []) ?? {}));
}

/**
 * rvAgent: Ed25519 over the card with `metadata.ruvector.signature` removed, keys sorted
 * by UTF-8 bytes, compact.
 */
export function rvAgentCardSigningInput(card: JsonObject): Uint8Array {
  const copy = structuredClone(card);
  const ruvector = isObject(copy.metadata) ? copy.metadata.ruvector : undefined;
  if (isObject(ruvector)) delete ruvector.signature;
  return utf8.encode(canonicalJson(copy, "codepoint"));
}

// Proto3 booleans without presence: `false` is their default and never serialised.
const PLAIN_BOOLEANS: readonly (readonly string[])[] = [
  ["capabilities", "extensions", "[]", "required"],
  ["securitySchemes", "*", "oauth2SecurityScheme", "flows", "authorizationCode", "pkceRequired"],
];

function isPlainBoolean(path: readonly string[]): boolean {
  return PLAIN_BOOLEANS.some(
    (pattern) => pattern.length === path.length && pattern.every((part, i) => part === "*" || part === path[i]),
  );
}

function withoutDefaults(value: unknown, path: readonly string[]): unknown {
  if (value === null || value === undefined || value === "") return undefined;
  if (value === false && isPlainBoolean(path)) return undefined;
  if (Array.isArray(value)) {
    const items = value.map((item) => withoutDefaults(item, [...path, "[]"])).filter((item) => item !== undefined);
    return items.length > 0 ? items : undefined;
  }
  if (isObject(value)) {
    const entries = Object.entries(value)
      .map(([key, item]) => [key, withoutDefaults(item, [...path, key])] as const)
      .filter(([, item]) => item !== undefined);
    return entries.length > 0 ? Object.fromEntries(entries) : undefined;
  }
  return value;
}
