/** Seeded mutation of byte inputs: bit flips, interesting values, cuts, splices and structural noise. */
import { rng } from "../support/helpers.ts";

const INTERESTING_U32 = [0, 1, 2, 63, 64, 65, 1023, 1024, 2048, 8192, 8193, 0x7fff_ffff, 0xffff_ffff, 100_000_001];
const INTERESTING_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xff];
/** Bytes that change the structure of JSON and SSE text. */
const STRUCTURAL = ["[", "{", "}", "]", '"', "\\", ",", ":", "\n", "\r", "data:", "event:", "id:", "retry:", "1e999", "-0", "null", "\u0000"].map((s) => new TextEncoder().encode(s));

/** A generator of mutants of `seeds`, deterministic for `seed`. */
export class Mutator {
  readonly #next: () => number;

  constructor(seed: number) {
    this.#next = rng(seed);
  }

  #int(n: number): number {
    return Math.floor(this.#next() * n);
  }

  /** One mutant: 1–4 mutations of a seed picked at random. */
  mutant(seeds: readonly Uint8Array[]): Uint8Array {
    let bytes: Uint8Array = seeds[this.#int(seeds.length)]!.slice();
    const rounds = 1 + this.#int(4);
    for (let r = 0; r < rounds; r++) bytes = this.#once(bytes);
    return bytes;
  }

  #once(b: Uint8Array): Uint8Array {
    const at = b.length === 0 ? 0 : this.#int(b.length);
    switch (this.#int(9)) {
      case 0:
        if (b.length) b[at]! ^= 1 << this.#int(8);
        return b;
      case 1:
        if (b.length) b[at] = INTERESTING_BYTES[this.#int(INTERESTING_BYTES.length)]!;
        return b;
      case 2: {
        if (b.length < 4) return b;
        const offset = this.#int(2) === 0 ? at - (at % 4) : at;
        new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(Math.min(offset, b.length - 4), INTERESTING_U32[this.#int(INTERESTING_U32.length)]!, true);
        return b;
      }
      case 3:
        return b.slice(0, at);
      case 4: {
        const extra = new Uint8Array(1 + this.#int(64)).map(() => this.#int(256));
        return concat(b, extra);
      }
      case 5: {
        const end = Math.min(b.length, at + 1 + this.#int(32));
        return concat(b.subarray(0, at), b.subarray(end));
      }
      case 6: {
        const end = Math.min(b.length, at + 1 + this.#int(64));
        return concat(b.subarray(0, end), b.subarray(at, end), b.subarray(end));
      }
      case 7: {
        const token = STRUCTURAL[this.#int(STRUCTURAL.length)]!;
        return concat(b.subarray(0, at), token, b.subarray(at));
      }
      default: {
        // A run of one structural token: nesting bombs and long lines.
        const token = STRUCTURAL[this.#int(4)]!;
        const run = new Uint8Array(token.length * (1 + this.#int(5000)));
        for (let i = 0; i < run.length; i += token.length) run.set(token, i);
        return concat(b.subarray(0, at), run, b.subarray(at));
      }
    }
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
