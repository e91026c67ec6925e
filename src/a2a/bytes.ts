/**
 * Strict text encodings of bytes. Node's `Buffer` decoders skip characters they do not
 * know; signature material must not be that forgiving.
 * @module
 */

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/** Unpadded base64url of `bytes`. */
export function toBase64Url(bytes: Uint8Array | string): string {
  return Buffer.from(bytes).toString("base64url");
}

/** Bytes of unpadded base64url `text`, or a `TypeError` naming `what`. */
export function fromBase64Url(text: string, what: string): Uint8Array {
  if (!BASE64URL.test(text) || text.length % 4 === 1) throw new TypeError(`${what} is not base64url`);
  return new Uint8Array(Buffer.from(text, "base64url"));
}

/** Lowercase hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

/** Bytes of hex `text` of exactly `length` bytes, or a `TypeError` naming `what`. */
export function fromHex(text: string, length: number, what: string): Uint8Array {
  if (!HEX.test(text) || text.length !== length * 2) {
    throw new TypeError(`${what} must be ${length} bytes of hex`);
  }
  return new Uint8Array(Buffer.from(text, "hex"));
}
