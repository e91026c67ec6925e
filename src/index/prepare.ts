/** Checks of index options, vectors and queries before they cross the C ABI, and the native parameter struct. */
import { DimensionMismatch, InvalidArgument } from "../errors.ts";
import { IndexKind } from "../ffi.ts";
import { checkOptionKeys, describeValue, float32Hint } from "../options.ts";
import { IndexParams, NativeStruct } from "../structs.ts";
import type { IndexOptions, Metric, SearchOptions } from "./types.ts";

/** The variant numbers of the C ABI (`RUV_INDEX_KIND_*`). */
export const Kind = IndexKind;
/** A concrete variant number. */
export type KindValue = (typeof Kind)["Flat" | "Rabitq" | "Plus" | "Asym"];
/** Class names by variant number. */
export const KIND_NAMES = ["FlatF32Index", "RabitqIndex", "RabitqPlusIndex", "RabitqAsymIndex"] as const;
/** Metrics by their `RUV_METRIC_*` number. */
export const METRICS: readonly Metric[] = ["l2", "cosine"];

/** Index parameters as the C ABI takes them. */
export interface NativeParams {
  kind: KindValue;
  dim: number;
  seed: bigint;
  rerankFactor: number;
  metric: number;
  padToWord: number;
}

/** A `RuvIndexParams` for `p`. */
export function paramsStruct(p: NativeParams): Uint8Array {
  return new NativeStruct(IndexParams, { kind: p.kind, dim: p.dim, seed: p.seed, rerank_factor: p.rerankFactor, metric: p.metric, pad_to_word: p.padToWord }).bytes;
}

export function isPositiveInt(x: unknown, max: number): x is number {
  return typeof x === "number" && Number.isInteger(x) && x >= 1 && x <= max;
}

/** The keys of {@link BuildOptions}, for the unknown-key check. */
const BUILD_KEYS = ["dim", "seed", "rerankFactor", "metric", "padToWord", "ids"];
/** The keys of {@link BatchOptions} (a superset of {@link SearchOptions}'s). */
const SEARCH_KEYS = ["rerankFactor"];
const BATCH_KEYS = [...SEARCH_KEYS, "threads"];

/** `what` names the call for messages, e.g. `RabitqPlusIndex.build`. */
export function nativeParams(kind: KindValue, o: IndexOptions, defaultRerank: number, what = KIND_NAMES[kind]): NativeParams {
  if (typeof o !== "object" || o === null) throw new InvalidArgument(`${what} needs an options object with a dim, got ${describeValue(o)}`);
  checkOptionKeys(o, BUILD_KEYS, `${what} options`);
  if (!isPositiveInt(o.dim, 8192)) throw new InvalidArgument(`dim must be an integer in 1..8192, got ${describeValue(o.dim)}`);
  const rerankFactor = o.rerankFactor ?? defaultRerank;
  if (!isPositiveInt(rerankFactor, 1024)) {
    throw new InvalidArgument(`rerankFactor must be an integer in 1..1024, got ${o.rerankFactor}`);
  }
  const seed = o.seed ?? 42;
  const validSeed = typeof seed === "bigint" ? seed >= 0n && seed < 2n ** 64n : Number.isSafeInteger(seed) && seed >= 0;
  if (!validSeed) throw new InvalidArgument(`seed must be a non-negative integer below 2^64, got ${seed}`);
  const metric = METRICS.indexOf(o.metric ?? "l2");
  if (metric < 0) throw new InvalidArgument(`metric must be "l2" or "cosine", got ${JSON.stringify(o.metric)}`);
  return { kind, dim: o.dim, seed: BigInt(seed), rerankFactor, metric, padToWord: o.padToWord === false ? 0 : 1 };
}

export function checkFloat32(vectors: unknown, what: string): asserts vectors is Float32Array {
  if (!(vectors instanceof Float32Array)) {
    throw new InvalidArgument(`${what} must be a Float32Array, got ${describeValue(vectors)}${float32Hint(vectors)}`);
  }
  checkAttached(vectors, what);
}

/** A transferred (detached) buffer reads as empty: refuse it rather than silently use no data. */
export function checkAttached(view: ArrayBufferView, what: string): void {
  if ((view.buffer as ArrayBuffer).detached) throw new InvalidArgument(`${what} is a detached ${view.constructor.name} (its buffer was transferred)`);
}

/** Floats copied per event-loop turn by {@link copyInSlices} (8 MiB, about a millisecond). */
const COPY_SLICE = 2 << 20;

/**
 * A private copy of `source` that nothing else can transfer, made a slice per
 * event-loop turn; a source transferred meanwhile is an `InvalidArgument`.
 */
export async function copyInSlices(source: Float32Array, what: string): Promise<Float32Array> {
  const out = new Float32Array(source.length);
  for (let at = 0; at < source.length; at += COPY_SLICE) {
    if (at > 0) await new Promise((resolve) => setImmediate(resolve));
    checkAttached(source, what);
    out.set(source.subarray(at, at + COPY_SLICE), at);
  }
  return out;
}

export function checkVectors(vectors: unknown, dim: number, what: string): asserts vectors is Float32Array {
  checkFloat32(vectors, what);
  if (vectors.length % dim !== 0) {
    throw new InvalidArgument(`${what} length ${vectors.length} is not a multiple of dim ${dim}`);
  }
}

/** A single vector of the index's dim; `what` names the argument (`query`, `vector`). */
export function checkQuery(query: unknown, dim: number, what = "query"): asserts query is Float32Array {
  checkFloat32(query, what);
  if (query.length !== dim) throw new DimensionMismatch(dim, query.length);
}

export function checkK(k: unknown): asserts k is number {
  if (typeof k !== "number" || !Number.isInteger(k) || k < 1 || k > 0x7fff_ffff) {
    throw new InvalidArgument(`k must be a positive integer, got ${k}`);
  }
}

export function checkThreads(threads: unknown): number {
  const t = threads ?? 0;
  if (typeof t !== "number" || !Number.isInteger(t) || t < 0 || t > 1024) {
    throw new InvalidArgument(`threads must be an integer in 0..1024, got ${threads}`);
  }
  return t;
}

/** The options of `search` (`batch`: of `searchBatch`), checked; returns the rerank override (0 = none). */
export function searchRerank(options: SearchOptions, batch = false): number {
  if (typeof options !== "object" || options === null) throw new InvalidArgument(`search options must be an object, got ${describeValue(options)}`);
  checkOptionKeys(options, batch ? BATCH_KEYS : SEARCH_KEYS, batch ? "searchBatch options" : "search options");
  const rf = options.rerankFactor;
  if (rf === undefined) return 0;
  if (!isPositiveInt(rf, 1024)) throw new InvalidArgument(`rerankFactor must be an integer in 1..1024, got ${rf}`);
  return rf;
}

export function checkPath(path: unknown): string {
  if (typeof path !== "string" || path.length === 0 || path.includes("\0")) {
    throw new InvalidArgument(`path must be a non-empty string without NUL bytes, got ${JSON.stringify(path)}`);
  }
  return path;
}
