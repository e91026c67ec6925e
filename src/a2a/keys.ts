/**
 * Keys: the trusted store a client verifies cards against, agent ids, and the signing keys
 * an {@link A2aServer} uses.
 * @module
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { p256 } from "@noble/curves/nist.js";
import { shake256 } from "@noble/hashes/sha3.js";
import { fromBase64Url, toBase64Url, toHex } from "./bytes.ts";

/** JWS algorithms a card signature may use. */
export type JwsAlg = "EdDSA" | "ES256";

/** An Ed25519 public key as a JWK (RFC 8037). */
export interface Ed25519Jwk {
  kty: "OKP";
  crv: "Ed25519";
  x: string;
  alg?: string;
  kid?: string;
}

/** A P-256 public key as a JWK (RFC 7518). */
export interface P256Jwk {
  kty: "EC";
  crv: "P-256";
  x: string;
  y: string;
  alg?: string;
  kid?: string;
}

/** A public key the caller trusts to sign agent cards. */
export type TrustedKey = Ed25519Jwk | P256Jwk;

/**
 * The caller's trusted keys. JWS signatures look their key up by `kid`; rvAgent signatures
 * by agent id (`agentIdOf(publicKey)`), which is also the default `kid` of our server.
 */
export type TrustedKeys = Readonly<Record<string, TrustedKey>> | ReadonlyMap<string, TrustedKey>;

/** The trusted key registered under `kid`, ignoring inherited object properties. */
export function lookupTrustedKey(keys: TrustedKeys, kid: string): TrustedKey | undefined {
  if (keys instanceof Map) return keys.get(kid);
  const record = keys as Readonly<Record<string, TrustedKey>>;
  return Object.hasOwn(record, kid) ? record[kid] : undefined;
}

/** The JWS algorithm a trusted key is for. */
export function algOfKey(key: TrustedKey): JwsAlg {
  return key.kty === "OKP" ? "EdDSA" : "ES256";
}

/** Raw public key bytes: 32 for Ed25519, the 65-byte uncompressed point for P-256. */
export function publicKeyBytes(key: TrustedKey): Uint8Array {
  if (key.kty === "OKP" && key.crv === "Ed25519") return fromBase64Url(key.x, "JWK x");
  if (key.kty === "EC" && key.crv === "P-256") {
    const x = fromBase64Url(key.x, "JWK x");
    const y = fromBase64Url(key.y, "JWK y");
    if (x.length !== 32 || y.length !== 32) throw new TypeError("P-256 JWK coordinates must be 32 bytes");
    return Uint8Array.of(4, ...x, ...y);
  }
  throw new TypeError(`unsupported JWK (kty ${String((key as { kty?: unknown }).kty)})`);
}

/** Agent id: hex(SHAKE-256(raw public key), 32-byte output) — rvAgent's definition. */
export function agentIdOf(publicKey: Uint8Array): string {
  return toHex(shake256(publicKey, { dkLen: 32 }));
}

/** An Ed25519 public key (32 bytes) as a JWK. */
export function ed25519Jwk(publicKey: Uint8Array): Ed25519Jwk {
  if (publicKey.length !== 32) throw new TypeError(`Ed25519 public key must be 32 bytes, got ${publicKey.length}`);
  return { kty: "OKP", crv: "Ed25519", x: toBase64Url(publicKey) };
}

/** A P-256 public key (65-byte uncompressed point) as a JWK. */
export function p256Jwk(publicKey: Uint8Array): P256Jwk {
  if (publicKey.length !== 65 || publicKey[0] !== 4) {
    throw new TypeError("P-256 public key must be a 65-byte uncompressed point");
  }
  return { kty: "EC", crv: "P-256", x: toBase64Url(publicKey.subarray(1, 33)), y: toBase64Url(publicKey.subarray(33)) };
}

/** A key pair that signs agent cards. */
export interface SigningKey {
  readonly alg: JwsAlg;
  /** JWS key id; defaults to the agent id of the public key. */
  readonly kid: string;
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

/** A signing key from `secretKey` (32 bytes for either algorithm), or a fresh random one. */
export function signingKey(alg: JwsAlg, secretKey?: Uint8Array, kid?: string): SigningKey {
  const curve = alg === "EdDSA" ? ed25519 : p256;
  const secret = secretKey ?? curve.utils.randomSecretKey();
  const publicKey = alg === "EdDSA" ? ed25519.getPublicKey(secret) : p256.getPublicKey(secret, false);
  return { alg, kid: kid ?? agentIdOf(publicKey), secretKey: secret, publicKey };
}

/** The public half of a signing key as a JWK carrying its `kid` and `alg`. */
export function publicJwk(key: SigningKey): TrustedKey {
  const jwk = key.alg === "EdDSA" ? ed25519Jwk(key.publicKey) : p256Jwk(key.publicKey);
  return { ...jwk, alg: key.alg, kid: key.kid };
}
