/**
 * {@link Embedder}: local text and image embeddings. The native core runs the
 * model through ONNX Runtime's C API; files are verified by pinned SHA-256 on
 * every load.
 */
import type { Pointer } from "bun:ffi";
import { EmbedAborted, EmbedError } from "../errors.ts";
import { check, lib, outPointer, utf8 } from "../ffi.ts";
import { NativeHandle, runJob } from "../runtime.ts";
import { checkOptionKeys } from "../options.ts";
import { ensureModelFiles, requireCachedFiles, type CacheOptions } from "./download.ts";
import { ortLibraryFor } from "./ort.ts";
import { modelInfo, type ModelInfo } from "./registry.ts";


/** The keys of {@link PretrainedOptions}, for the unknown-key check. */
const PRETRAINED_KEYS = ["ortLibrary", "cacheDir", "baseUrl", "revision", "onProgress", "env"];

/** Options of {@link Embedder.openAsync}. */
export interface PretrainedOptions extends CacheOptions {
  /**
   * Path of ONNX Runtime's shared library. Default: see `resolveOrtLibrary`. A
   * library embedded in a compiled executable works too (see `loadableLibraryPath`).
   */
  ortLibrary?: string;
}

/** Progress of an {@link Embedder.embedBatchAsync} call. */
export interface EmbedProgress {
  /** Texts embedded so far. */
  done: number;
  /** Texts in the call. */
  total: number;
}

/** Options of {@link Embedder.embedBatchAsync}. */
export interface EmbedBatchOptions {
  /** Called as chunks of 32 texts finish (polled every `progressIntervalMs`), and once with `done === total`. */
  onProgress?: (progress: EmbedProgress) => void;
  /** How often progress is polled while the batch runs, in ms (default 100). */
  progressIntervalMs?: number;
  /**
   * Cancels the call: the native work stops before its next chunk and the
   * promise rejects with {@link EmbedAborted} (`cause` = the signal's reason).
   */
  signal?: AbortSignal;
}

/** Size of an image passed as raw pixels. */
export interface ImageSize {
  width: number;
  height: number;
}

const encoder = new TextEncoder();

/** Packs texts into one UTF-8 buffer plus `n + 1` byte offsets (lone surrogates become U+FFFD). */
function packTexts(texts: readonly string[]): { bytes: Uint8Array; offsets: BigUint64Array } {
  if (!Array.isArray(texts)) throw new EmbedError(`texts must be an array of strings, got ${typeof texts}`);
  const parts = texts.map((t, i) => {
    if (typeof t !== "string") throw new EmbedError(`text ${i} is a ${typeof t}, not a string`);
    return encoder.encode(t);
  });
  const offsets = new BigUint64Array(parts.length + 1);
  let total = 0;
  parts.forEach((p, i) => {
    total += p.length;
    offsets[i + 1] = BigInt(total);
  });
  const bytes = new Uint8Array(Math.max(total, 1));
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  return { bytes, offsets };
}

/** Row views (no copies) of a flat `n × dim` batch. */
export function rowViews(batch: Float32Array, dim: number): Float32Array[] {
  if (!Number.isInteger(dim) || dim <= 0 || batch.length % dim !== 0) {
    throw new EmbedError(`a batch of ${batch.length} floats does not split into rows of ${dim}`);
  }
  const rows: Float32Array[] = [];
  for (let i = 0; i < batch.length; i += dim) rows.push(batch.subarray(i, i + dim));
  return rows;
}

/** A loaded embedding model (text or image). Close it, or use `using`. */
export class Embedder implements Disposable {
  readonly #handle: NativeHandle;
  /** The registry entry of this model. */
  readonly info: ModelInfo;
  /** Embedding dimension (384 for all-MiniLM-L6-v2, 1280 for mobilenetv2). */
  readonly dim: number;

  private constructor(handle: Pointer, info: ModelInfo) {
    this.#handle = new NativeHandle(handle, (p) => lib().ruv_embedder_free(p), `Embedder(${info.name})`);
    this.info = info;
    const dim = new Uint32Array(1);
    check(lib().ruv_embedder_dim(handle, dim));
    this.dim = dim[0]!;
  }

  /**
   * Opens a registry model: `"all-MiniLM-L6-v2"` (text, 384, mean pooling),
   * `"mobilenetv2"` (image, 1280), and the declared `"bge-small-en-v1.5"` and
   * `"mobilenetv3-small"` (reported unavailable without pinned files). Missing
   * files are downloaded once; every file is SHA-256-verified on every load.
   * Throws {@link EmbedError} on any failure, naming the file and both hashes
   * for a bad one. Verification and session creation run off the JS thread.
   */
  static async openAsync(name: string, options: PretrainedOptions = {}): Promise<Embedder> {
    checkOptionKeys(options, PRETRAINED_KEYS, "Embedder.openAsync options");
    const info = modelInfo(name);
    if (info.unavailable) throw new EmbedError(info.unavailable);
    // ONNX Runtime first: a missing runtime is reported before any download.
    const ort = ortLibraryFor(options);
    const dir = await ensureModelFiles(info, options);
    const [n, d, o] = [utf8(name), utf8(dir), utf8(ort)];
    const symbols = lib();
    return runJob(
      (cell) => symbols.ruv_embedder_open_async(n, n.length, d, d.length, o, o.length, cell),
      (job) => {
        const cell = new BigUint64Array(1);
        check(symbols.ruv_job_take_embedder(job, cell));
        return new Embedder(outPointer(cell), info);
      },
    );
  }

  /** {@link openAsync} on the calling thread (model files must already be cached), for scripts that need no event loop. */
  static open(name: string, options: Omit<PretrainedOptions, "baseUrl" | "onProgress" | "revision"> = {}): Embedder {
    checkOptionKeys(options, ["ortLibrary", "cacheDir", "env"], "Embedder.open options");
    const info = modelInfo(name);
    if (info.unavailable) throw new EmbedError(info.unavailable);
    const ort = ortLibraryFor(options);
    const [n, d, o] = [utf8(name), utf8(requireCachedFiles(info, options)), utf8(ort)];
    const cell = new BigUint64Array(1);
    check(lib().ruv_embedder_open(n, n.length, d, d.length, o, o.length, cell));
    return new Embedder(outPointer(cell), info);
  }

  /** The model's name. */
  get name(): string {
    return this.info.name;
  }

  /** Embeds one text (text models): a unit-length `Float32Array(dim)`. */
  embed(text: string): Float32Array {
    return this.embedBatch([text]);
  }

  /**
   * Embeds texts into one flat `Float32Array(n × dim)` (row `i` = text `i`; see
   * {@link rows}). Runs in chunks of 32, so any number of texts is fine.
   */
  embedBatch(texts: readonly string[]): Float32Array {
    const { bytes, offsets } = packTexts(texts);
    const out = new Float32Array(texts.length * this.dim);
    if (texts.length === 0) return out;
    check(lib().ruv_embedder_embed_texts(this.#handle.ptr, bytes, bytes.length, offsets, offsets.length, out, out.length));
    return out;
  }

  /**
   * {@link embedBatch} off the JS thread (inputs are copied before it returns),
   * for corpora of any size: the native side tokenizes the next chunk while the
   * current one runs, and ONNX Runtime uses every core. Reports progress and can
   * be cancelled (see {@link EmbedBatchOptions}); throws `ClosedError` at once on
   * a closed embedder.
   */
  embedBatchAsync(texts: readonly string[], options: EmbedBatchOptions = {}): Promise<Float32Array> {
    const { bytes, offsets } = packTexts(texts);
    const handle = this.#handle.ptr;
    const total = texts.length;
    const { signal, onProgress } = options;
    const interval = options.progressIntervalMs ?? 100;
    if (!(Number.isFinite(interval) && interval > 0)) throw new EmbedError(`progressIntervalMs must be a positive number, got ${interval}`);
    if (signal?.aborted) return Promise.reject(new EmbedAborted(0, total, signal.reason));
    if (total === 0) return Promise.resolve(new Float32Array(0));
    const symbols = lib();
    const cell = new BigUint64Array(1);
    check(symbols.ruv_embed_progress_new(cell));
    const progress = new NativeHandle(outPointer(cell), (p) => symbols.ruv_embed_progress_free(p), "EmbedProgress");
    const doneCell = new BigUint64Array(1);
    const done = () => (check(symbols.ruv_embed_progress_done(progress.ptr, doneCell)), Number(doneCell[0]));
    let reported = 0;
    const report = (n: number) => {
      if (n !== reported) onProgress?.({ done: (reported = n), total });
    };
    let job: Promise<Float32Array>;
    try {
      job = runJob(
        (jobCell) => symbols.ruv_embedder_embed_texts_tracked_async(handle, bytes, bytes.length, offsets, offsets.length, progress.ptr, jobCell),
        (job) => {
          const out = new Float32Array(total * this.dim);
          check(symbols.ruv_job_take_floats(job, out, out.length, doneCell));
          return out;
        },
      );
    } catch (e) {
      progress.close();
      throw e;
    }
    const cancel = () => symbols.ruv_embed_progress_cancel(progress.ptr);
    signal?.addEventListener("abort", cancel, { once: true });
    const timer = onProgress ? setInterval(() => report(done()), interval) : undefined;
    return job
      .then(
        (out) => (report(total), out),
        (e) => {
          throw signal?.aborted ? new EmbedAborted(done(), total, signal.reason) : e;
        },
      )
      .finally(() => {
        clearInterval(timer);
        signal?.removeEventListener("abort", cancel);
        progress.close();
      });
  }

  /** Row views (no copies) of a batch this embedder returned. */
  rows(batch: Float32Array): Float32Array[] {
    return rowViews(batch, this.dim);
  }

  /**
   * Embeds one image (image models): interleaved RGB or RGBA bytes, row-major,
   * `width × height` pixels. It is resized (shorter side 256, bilinear,
   * antialiased), centre-cropped to 224 and ImageNet-normalised as the model
   * was trained; the result is L2-normalised.
   */
  embedImage(pixels: Uint8Array, size: ImageSize): Float32Array {
    this.#checkImage(pixels, size);
    const out = new Float32Array(this.dim);
    check(lib().ruv_embedder_embed_image(this.#handle.ptr, pixels, pixels.length, size.width, size.height, out, out.length));
    return out;
  }

  /** The preprocessed `[1, 3, 224, 224]` NCHW float input {@link embedImage} feeds the model. */
  preprocessImage(pixels: Uint8Array, size: ImageSize): Float32Array {
    this.#checkImage(pixels, size);
    const side = this.info.maxLength;
    const out = new Float32Array(3 * side * side);
    check(lib().ruv_embedder_preprocess_image(this.#handle.ptr, pixels, pixels.length, size.width, size.height, out, out.length));
    return out;
  }

  /** Embeds an already preprocessed `[1, 3, 224, 224]` NCHW tensor; L2-normalised. */
  embedPreprocessed(input: Float32Array): Float32Array {
    if (!(input instanceof Float32Array)) throw new EmbedError("preprocessed input must be a Float32Array [1, 3, 224, 224]");
    const out = new Float32Array(this.dim);
    check(lib().ruv_embedder_embed_preprocessed(this.#handle.ptr, input, input.length, out, out.length));
    return out;
  }

  #checkImage(pixels: Uint8Array, size: ImageSize): void {
    if (!(pixels instanceof Uint8Array) && !((pixels as unknown) instanceof Uint8ClampedArray)) {
      throw new EmbedError(`pixels must be a Uint8Array of RGB or RGBA bytes (height × width × 3 or 4), got ${typeof pixels}`);
    }
    const { width, height } = size ?? {};
    for (const [k, v] of [["width", width], ["height", height]] as const) {
      if (!Number.isInteger(v) || v! <= 0 || v! > 65535) throw new EmbedError(`image ${k} must be an integer in 1..65535, got ${v}`);
    }
  }

  /** Frees the native model (a running async batch keeps its own reference). */
  close(): void {
    this.#handle.close();
  }

  [Symbol.dispose](): void {
    this.#handle.dispose();
    this.close();
  }
}
