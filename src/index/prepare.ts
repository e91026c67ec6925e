/** Checks of index options, vectors and queries before they cross the C ABI, and the native parameter struct. */
import { DimensionMismatch, InvalidArgument } from "../errors.ts";
import { IndexKind, IvfStore, LoadFlag } from "../ffi.ts";
import { checkOptionKeys, describeValue, float32Hint } from "../options.ts";
import type { ProgressCallback } from "../runtime.ts";
import { IndexParams, LoadOptionsStruct, NativeStruct } from "../structs.ts";
import type { IndexOptions, IvfIndexOptions, LoadOptions, Metric, Store } from "./types.ts";

/** The variant numbers of the C ABI (`RUV_INDEX_KIND_*`). */
export const Kind = IndexKind;
/** A concrete variant number. */
export type KindValue = (typeof Kind)["Flat" | "Rabitq" | "Plus" | "Asym" | "Ivf"];
/** Class names by variant number. */
export const KIND_NAMES = ["FlatF32Index", "RabitqIndex", "RabitqPlusIndex", "RabitqAsymIndex", "IvfRabitqIndex"] as const;
/** Metrics by their `RUV_METRIC_*` number. */
export const METRICS: readonly Metric[] = ["l2", "cosine"];
/** IVF stores by their `RUV_IVF_STORE_*` number. */
export const STORES: readonly Store[] = ["none", "f16", "f32"];

/** Index parameters as the C ABI takes them. */
export interface NativeParams {
  kind: KindValue;
  dim: number;
  seed: bigint;
  rerankFactor: number;
  metric: number;
  padToWord: number;
  /** IVF fields (zeros for the other variants, and for IVF defaults). */
  nlist: number;
  exBits: number;
  store: number;
  nprobe: number;
  rerank: number;
  targetRecall: number;
}

/** A `RuvIndexParams` for `p`. */
export function paramsStruct(p: NativeParams): Uint8Array {
  return new NativeStruct(IndexParams, {
    kind: p.kind, dim: p.dim, seed: p.seed, rerank_factor: p.rerankFactor, metric: p.metric, pad_to_word: p.padToWord,
    nlist: p.nlist, ex_bits: p.exBits, store: p.store, nprobe: p.nprobe, rerank: p.rerank, target_recall: p.targetRecall,
  }).bytes;
}

export function isPositiveInt(x: unknown, max: number): x is number {
  return typeof x === "number" && Number.isInteger(x) && x >= 1 && x <= max;
}

/** The keys of {@link BuildOptions}, for the unknown-key check. */
const BUILD_KEYS = ["dim", "seed", "rerankFactor", "metric", "padToWord", "ids", "tags", "onProgress"];
/** The keys of {@link IvfBuildOptions}. */
const IVF_BUILD_KEYS = ["dim", "seed", "metric", "ids", "tags", "onProgress", "nlist", "exBits", "store", "nprobe", "rerank", "targetRecall"];
/** The keys of search options (batch options add `threads`) by variant. */
const SEARCH_KEYS = ["rerankFactor", "filter"];
const IVF_SEARCH_KEYS = ["nprobe", "rerank", "filter"];

/** `what` names the call for messages, e.g. `RabitqPlusIndex.build`. */
export function nativeParams(kind: KindValue, o: IndexOptions | IvfIndexOptions, defaultRerank: number, what = KIND_NAMES[kind]): NativeParams {
  if (typeof o !== "object" || o === null) throw new InvalidArgument(`${what} needs an options object with a dim, got ${describeValue(o)}`);
  checkOptionKeys(o, kind === Kind.Ivf ? IVF_BUILD_KEYS : BUILD_KEYS, `${what} options`);
  if (!isPositiveInt(o.dim, 8192)) throw new InvalidArgument(`dim must be an integer in 1..8192, got ${describeValue(o.dim)}`);
  const rerankFactor = ("rerankFactor" in o ? o.rerankFactor : undefined) ?? defaultRerank;
  if (!isPositiveInt(rerankFactor, 1024)) {
    throw new InvalidArgument(`rerankFactor must be an integer in 1..1024, got ${describeValue(rerankFactor)}`);
  }
  const seed = o.seed ?? 42;
  const validSeed = typeof seed === "bigint" ? seed >= 0n && seed < 2n ** 64n : Number.isSafeInteger(seed) && seed >= 0;
  if (!validSeed) throw new InvalidArgument(`seed must be a non-negative integer below 2^64, got ${seed}`);
  const metric = METRICS.indexOf(o.metric ?? "l2");
  if (metric < 0) throw new InvalidArgument(`metric must be "l2" or "cosine", got ${JSON.stringify(o.metric)}`);
  const padToWord = "padToWord" in o && o.padToWord === false ? 0 : 1;
  const base = { kind, dim: o.dim, seed: BigInt(seed), rerankFactor, metric, padToWord };
  return { ...base, ...(kind === Kind.Ivf ? ivfParams(o as IvfIndexOptions) : NO_IVF) };
}

const NO_IVF = { nlist: 0, exBits: 0, store: 0, nprobe: 0, rerank: 0, targetRecall: 0 };

/** An optional integer option in 1..max (0 when absent). */
function optionalInt(o: object, key: string, max: number): number {
  const v = (o as Record<string, unknown>)[key];
  if (v === undefined) return 0;
  if (!isPositiveInt(v, max)) throw new InvalidArgument(`${key} must be an integer in 1..${max}, got ${describeValue(v)}`);
  return v;
}

function ivfParams(o: IvfIndexOptions): Pick<NativeParams, "nlist" | "exBits" | "store" | "nprobe" | "rerank" | "targetRecall"> {
  const store = STORES.indexOf(o.store ?? "none");
  if (store < 0) throw new InvalidArgument(`store must be "none", "f16" or "f32", got ${describeValue(o.store)}`);
  const rerank = optionalInt(o, "rerank", 1 << 20);
  if (rerank > 0 && store === IvfStore.None) {
    throw new InvalidArgument(`rerank ${rerank} needs a store to rerank from: add store: "f16" or "f32"`);
  }
  const t = o.targetRecall;
  if (t !== undefined && !(typeof t === "number" && t > 0 && t <= 1)) {
    throw new InvalidArgument(`targetRecall must be a number in (0, 1], got ${describeValue(t)}`);
  }
  return { nlist: optionalInt(o, "nlist", 1 << 24), exBits: optionalInt(o, "exBits", 8), store, nprobe: optionalInt(o, "nprobe", 1 << 24), rerank, targetRecall: t ?? 0 };
}

/** `onProgress` of `buildAsync`: a function or absent. */
export function checkProgressCallback(f: unknown): ProgressCallback | undefined {
  if (f === undefined || typeof f === "function") return f as ProgressCallback | undefined;
  throw new InvalidArgument(`onProgress must be a function (done, total) => void, got ${describeValue(f)}`);
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

/** The overrides of one search, as `RuvSearchOptions` fields (0 = keep the index's). */
export interface SearchOverrides {
  rerank_factor: number;
  nprobe: number;
  rerank: number;
}

/** The options of `search` (`batch`: of `searchBatch`) on a `kind` index, checked. */
export function searchOverrides(kind: KindValue, options: object, batch = false): SearchOverrides {
  if (typeof options !== "object" || options === null) throw new InvalidArgument(`search options must be an object, got ${describeValue(options)}`);
  const keys = kind === Kind.Ivf ? IVF_SEARCH_KEYS : SEARCH_KEYS;
  checkOptionKeys(options, batch ? [...keys, "threads"] : keys, batch ? "searchBatch options" : "search options");
  return { rerank_factor: optionalInt(options, "rerankFactor", 1024), nprobe: optionalInt(options, "nprobe", 1 << 24), rerank: optionalInt(options, "rerank", 1 << 20) };
}

/** The `RuvLoadOptions` of a load expecting `kind` (`Kind.Any` for any). */
export function loadOptionsStruct(kind: number, options: LoadOptions): Uint8Array {
  if (typeof options !== "object" || options === null) throw new InvalidArgument(`load options must be an object, got ${describeValue(options)}`);
  checkOptionKeys(options, ["mmap", "verify"], "load options");
  for (const key of ["mmap", "verify"] as const) {
    if (options[key] !== undefined && typeof options[key] !== "boolean") throw new InvalidArgument(`load option ${key} must be a boolean, got ${describeValue(options[key])}`);
  }
  if (options.verify && !options.mmap) throw new InvalidArgument("load option verify needs mmap: true (a copy load always verifies)");
  const flags = (options.mmap ? LoadFlag.Mmap : 0) | (options.verify ? LoadFlag.Verify : 0);
  return new NativeStruct(LoadOptionsStruct, { expected_kind: kind, flags }).bytes;
}

export function checkPath(path: unknown): string {
  if (typeof path !== "string" || path.length === 0 || path.includes("\0")) {
    throw new InvalidArgument(`path must be a non-empty string without NUL bytes, got ${JSON.stringify(path)}`);
  }
  return path;
}
