/**
 * Card signing, the inverse of `verify.ts`: JWS signatures for A2A 1.0 cards and the
 * Ed25519-hex signature of rvAgent cards.
 * @module
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { toHex } from "./bytes.ts";
import { a2aCardSigningInput, rvAgentCardSigningInput } from "./canonical.ts";
import { isObject, type JsonObject } from "./json.ts";
import { signJws } from "./jws.ts";
import { agentIdOf, type SigningKey } from "./keys.ts";

/** `card` with one JWS signature per key in `signatures` (replacing any it had). */
export function signA2aCard(card: JsonObject, keys: readonly SigningKey[]): JsonObject {
  const { signatures: _old, ...unsigned } = card;
  const payload = a2aCardSigningInput(unsigned);
  return { ...unsigned, signatures: keys.map((key) => signJws(payload, key)) };
}

/**
 * `card` signed rvAgent-style with an Ed25519 key: `metadata.ruvector` gets `agent_id`
 * first (it must exist before signing, as upstream's verifier leaves it in place) and then
 * `signature = { alg: "ed25519-hex", signature, public_key }`.
 */
export function signRvAgentCard(card: JsonObject, key: SigningKey): JsonObject {
  if (key.alg !== "EdDSA") throw new TypeError("rvAgent cards are signed with Ed25519 keys");
  const copy = structuredClone(card);
  const metadata = isObject(copy.metadata) ? copy.metadata : {};
  const ruvector = isObject(metadata.ruvector) ? metadata.ruvector : {};
  delete ruvector.signature;
  ruvector.agent_id = agentIdOf(key.publicKey);
  metadata.ruvector = ruvector;
  copy.metadata = metadata;
  const signature = ed25519.sign(rvAgentCardSigningInput(copy), key.secretKey);
  ruvector.signature = { alg: "ed25519-hex", signature: toHex(signature), public_key: toHex(key.publicKey) };
  return copy;
}
