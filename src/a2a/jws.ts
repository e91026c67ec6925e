/**
 * Flattened JWS (RFC 7515) with EdDSA (RFC 8037, Ed25519) and ES256, on noble curves.
 * Ed25519 verification is strict RFC 8032 (`zip215: false`); ES256 accepts high-S
 * signatures because JOSE does not require low-S and WebCrypto signers produce both.
 * @module
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { p256 } from "@noble/curves/nist.js";
import { fromBase64Url, toBase64Url } from "./bytes.ts";
import { asObject, asString, optString, parseJson } from "./json.ts";
import { algOfKey, publicKeyBytes, type JwsAlg, type SigningKey, type TrustedKey } from "./keys.ts";

/** The protected header fields this library reads. */
export interface JwsHeader {
  alg: JwsAlg;
  kid: string;
  jku?: string;
}

const utf8 = new TextEncoder();

/** Signs `payload` (detached) and returns the `protected` and `signature` members. */
export function signJws(payload: Uint8Array, key: SigningKey): { protected: string; signature: string } {
  const header = toBase64Url(JSON.stringify({ alg: key.alg, kid: key.kid, typ: "JOSE" }));
  const input = signingInput(header, payload);
  const signature = key.alg === "EdDSA" ? ed25519.sign(input, key.secretKey) : p256.sign(input, key.secretKey);
  return { protected: header, signature: toBase64Url(signature) };
}

/**
 * Decodes a protected header; a `TypeError` when it is malformed, uses an algorithm other
 * than EdDSA/ES256, or marks extensions critical (none are understood here).
 */
export function decodeProtectedHeader(encoded: string): JwsHeader {
  const header = asObject(parseJson(new TextDecoder().decode(fromBase64Url(encoded, "protected")), "protected header"), "protected header");
  const alg = asString(header.alg, "alg");
  if (alg !== "EdDSA" && alg !== "ES256") throw new TypeError(`unsupported alg ${alg}`);
  if (header.crit !== undefined) throw new TypeError("critical header extensions are not supported");
  const jku = optString(header.jku, "jku");
  return { alg, kid: asString(header.kid, "kid"), ...(jku === undefined ? {} : { jku }) };
}

/** True when `signature` is `key`'s signature over `protected`.`payload`. */
export function verifyJws(encodedHeader: string, signature: string, payload: Uint8Array, key: TrustedKey): boolean {
  const input = signingInput(encodedHeader, payload);
  const sig = fromBase64Url(signature, "signature");
  const publicKey = publicKeyBytes(key);
  try {
    return algOfKey(key) === "EdDSA"
      ? ed25519.verify(sig, input, publicKey, { zip215: false })
      : p256.verify(sig, input, publicKey, { lowS: false });
  } catch {
    return false;
  }
}

function signingInput(encodedHeader: string, payload: Uint8Array): Uint8Array {
  return utf8.encode(`${encodedHeader}.${toBase64Url(payload)}`);
}
