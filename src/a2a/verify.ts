/**
 * Card signature verification, fail-closed: an unsigned card, a signature that does not
 * verify, or a key the caller does not trust all raise `CardSignatureInvalid`.
 * @module
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { CardSignatureInvalid } from "./errors.ts";
import { fromHex } from "./bytes.ts";
import { a2aCardSigningInput, rvAgentCardSigningInput } from "./canonical.ts";
import type { FetchedCard } from "./card.ts";
import { fetchChecked, readBoundedText, withDeadline, type HttpSettings } from "./http.ts";
import { asArray, asObject, asString, isObject, optString, parseJson, type JsonObject } from "./json.ts";
import { decodeProtectedHeader, verifyJws } from "./jws.ts";
import { agentIdOf, algOfKey, lookupTrustedKey, publicKeyBytes, type TrustedKey, type TrustedKeys } from "./keys.ts";
import type { CardSignatureInfo } from "./types.ts";

/** Where verification may find keys. */
export interface VerifyOptions {
  trustedKeys: TrustedKeys;
  /**
   * Exact `jku` URLs whose JWKS may be fetched for a `kid` missing from `trustedKeys`.
   * A `jku` not listed here is never fetched.
   */
  jkuAllowList: readonly string[];
  http: HttpSettings;
  signal?: AbortSignal;
}

/** The outcome of a successful verification. */
export interface VerifiedCard {
  signature: CardSignatureInfo;
  agentId: string;
}

const MAX_JWKS_BYTES = 64 * 1024;

/** Verifies `card` in the scheme of its dialect. */
export function verifyCard(card: FetchedCard, options: VerifyOptions): Promise<VerifiedCard> {
  return card.dialect === "a2a" ? verifyJwsCard(card, options) : Promise.resolve(verifyRvAgentCard(card, options.trustedKeys));
}

async function verifyJwsCard(card: FetchedCard, options: VerifyOptions): Promise<VerifiedCard> {
  const signatures = card.json.signatures;
  if (signatures === undefined || (Array.isArray(signatures) && signatures.length === 0)) {
    throw new CardSignatureInvalid(card.url, "the card is unsigned (no signatures)");
  }
  if (!Array.isArray(signatures)) throw new CardSignatureInvalid(card.url, "signatures must be an array");
  const payload = a2aCardSigningInput(card.json);
  const failures: string[] = [];
  for (const [i, entry] of signatures.entries()) {
    try {
      return await verifyJwsEntry(entry, payload, options);
    } catch (error) {
      options.signal?.throwIfAborted();
      failures.push(`signature ${i}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  throw new CardSignatureInvalid(card.url, failures.join("; "));
}

async function verifyJwsEntry(entry: unknown, payload: Uint8Array, options: VerifyOptions): Promise<VerifiedCard> {
  const json = asObject(entry, "signature");
  const encodedHeader = asString(json.protected, "protected");
  const header = decodeProtectedHeader(encodedHeader);
  const key = lookupTrustedKey(options.trustedKeys, header.kid) ?? (await keyFromAllowedJku(header.kid, header.jku, options));
  if (!key) {
    const jkuNote = header.jku === undefined ? "" : ` (its jku ${header.jku} is not allow-listed)`;
    throw new Error(`kid ${header.kid} is not a trusted key${jkuNote}`);
  }
  if (algOfKey(key) !== header.alg || (key.alg !== undefined && key.alg !== header.alg)) {
    throw new Error(`kid ${header.kid} is a ${algOfKey(key)} key, the signature says ${header.alg}`);
  }
  if (!verifyJws(encodedHeader, asString(json.signature, "signature"), payload, key)) {
    throw new Error(`does not verify with trusted key ${header.kid} (the card or the signature was altered)`);
  }
  return { signature: { scheme: "jws", alg: header.alg, kid: header.kid }, agentId: agentIdOf(publicKeyBytes(key)) };
}

async function keyFromAllowedJku(kid: string, jku: string | undefined, options: VerifyOptions): Promise<TrustedKey | undefined> {
  if (jku === undefined || !options.jkuAllowList.includes(jku)) return undefined;
  const text = await withDeadline(jku, options.http, options.signal, async (signal) => {
    const response = await fetchChecked(jku, { redirect: "error", headers: { accept: "application/json" } }, options.http, signal);
    return readBoundedText(response, jku, MAX_JWKS_BYTES);
  });
  const keys = asArray(asObject(parseJson(text, "JWKS", options.http.maxJsonDepth), "JWKS").keys, "JWKS keys");
  const match = keys.find((key) => isObject(key) && key.kid === kid);
  if (!match) return undefined;
  const key = match as unknown as TrustedKey;
  publicKeyBytes(key);
  return key;
}

function verifyRvAgentCard(card: FetchedCard, trustedKeys: TrustedKeys): VerifiedCard {
  const ruvector = isObject(card.json.metadata) ? card.json.metadata.ruvector : undefined;
  const signature = isObject(ruvector) ? ruvector.signature : undefined;
  if (signature === undefined) throw new CardSignatureInvalid(card.url, "the card is unsigned (no metadata.ruvector.signature)");
  try {
    return checkRvAgentSignature(card.json, asObject(signature, "metadata.ruvector.signature"), trustedKeys);
  } catch (error) {
    throw new CardSignatureInvalid(card.url, error instanceof Error ? error.message : String(error));
  }
}

function checkRvAgentSignature(card: JsonObject, signature: JsonObject, trustedKeys: TrustedKeys): VerifiedCard {
  const alg = asString(signature.alg, "signature.alg");
  if (alg !== "ed25519-hex") throw new Error(`unsupported signature alg ${alg}`);
  const sig = fromHex(asString(signature.signature, "signature.signature"), 64, "signature.signature");
  const publicKey = fromHex(asString(signature.public_key, "signature.public_key"), 32, "signature.public_key");
  if (!strictEd25519Verify(sig, rvAgentCardSigningInput(card), publicKey)) {
    throw new Error("signature does not verify (the card or the signature was altered)");
  }
  const agentId = agentIdOf(publicKey);
  const ruvector = isObject(card.metadata) && isObject(card.metadata.ruvector) ? card.metadata.ruvector : {};
  const declared = optString(ruvector.agent_id, "agent_id");
  if (declared !== undefined && declared !== agentId) throw new Error(`declared agent_id ${declared} is not the key's ${agentId}`);
  const trusted = lookupTrustedKey(trustedKeys, agentId);
  if (!trusted || trusted.kty !== "OKP" || !Buffer.from(publicKeyBytes(trusted)).equals(publicKey)) {
    throw new Error(`agent id ${agentId} is not a trusted key`);
  }
  return { signature: { scheme: "rvagent", alg: "ed25519-hex", kid: agentId }, agentId };
}

function strictEd25519Verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}
