/** A model's own tokenizer (`tokenizer.json`), configured like sentence-transformers. */
import type { Pointer } from "bun:ffi";
import { InvalidArgument } from "../errors.ts";
import { check, lib, outPointer, utf8 } from "../ffi.ts";
import { checkOptionKeys, optionKeys } from "../options.ts";
import { NativeHandle } from "../runtime.ts";

/** Longest truncation length the native tokenizer accepts. */
const MAX_TOKENS = 1 << 20;

/** Options of {@link Tokenizer.fromFile}. */
export interface TokenizerOptions {
  /** Maximum tokens per text, `[CLS]` and `[SEP]` included (longer texts are truncated, keeping both). Default 256. */
  maxLength?: number;
}

const TOKENIZER_KEYS = optionKeys<TokenizerOptions>({ maxLength: true });

/** A WordPiece/BPE tokenizer loaded from a Hugging Face `tokenizer.json`. */
export class Tokenizer implements Disposable {
  readonly #handle: NativeHandle;

  private constructor(handle: Pointer) {
    this.#handle = new NativeHandle(handle, (p) => lib().ruv_tokenizer_free(p), "Tokenizer");
  }

  /** Loads `path` (a `tokenizer.json`); its own fixed padding/truncation is replaced by truncation at `maxLength`. */
  static fromFile(path: string, options: TokenizerOptions = {}): Tokenizer {
    checkOptionKeys(options, TOKENIZER_KEYS, "Tokenizer.fromFile options");
    const maxLength = options.maxLength ?? 256;
    if (!Number.isInteger(maxLength) || maxLength < 2 || maxLength > MAX_TOKENS) {
      throw new InvalidArgument(`maxLength must be an integer of at least 2 (room for [CLS] and [SEP]) and at most ${MAX_TOKENS}, got ${maxLength}`);
    }
    const cell = new BigUint64Array(1);
    const bytes = utf8(path);
    check(lib().ruv_tokenizer_open(bytes, bytes.length, maxLength, cell));
    return new Tokenizer(outPointer(cell));
  }

  /** Token ids of `text`, special tokens included, unpadded. */
  encode(text: string): Uint32Array {
    const bytes = utf8(text);
    const len = new BigUint64Array(1);
    let out = new Uint32Array(64);
    for (;;) {
      check(lib().ruv_tokenizer_encode(this.#handle.ptr, bytes, bytes.length, out, out.length, len));
      const n = Number(len[0]);
      if (n <= out.length) return out.slice(0, n);
      out = new Uint32Array(n);
    }
  }

  /** Frees the native tokenizer; later calls throw `ClosedError`. */
  close(): void {
    this.#handle.close();
  }

  [Symbol.dispose](): void {
    this.#handle.dispose();
    this.close();
  }
}
