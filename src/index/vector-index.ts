/**
 * The base class of every index: a native RaBitQ or exact engine behind an
 * owned handle. Plain names are synchronous; `…Async` methods return Promises
 * and run on native worker threads.
 */
import { ptr, type Pointer } from "bun:ffi";
import { InvalidArgument } from "../errors.ts";
import { describeValue } from "../options.ts";
import { check, lib, outPointer, RemoveFlag, Status, utf8 } from "../ffi.ts";
import { IndexInfo, NativeStruct, SearchOptionsStruct } from "../structs.ts";
import { NativeHandle, runJob } from "../runtime.ts";
import { formatBytes } from "../units.ts";
import { checkId, toIdList, toIds } from "./ids.ts";
import { addOptions, batchFilters, checkTags, singleFilter, withFilters } from "./filter.ts";
import { checkK, checkPath, checkProgressCallback, loadOptionsStruct, checkQuery, checkThreads, checkVectors, copyInSlices, Kind, KIND_NAMES, METRICS, nativeParams, paramsStruct, searchOverrides, type KindValue, type NativeParams } from "./prepare.ts";
import { BatchResult, type RemoveOptions, type BatchOptions, type BuildOptions, type IdsInput, type IndexOptions, type IvfBatchOptions, type IvfBuildOptions, type IvfIndexOptions, type IvfSearchOptions, type LoadOptions, type Metric, type SearchHit, type SearchOptions } from "./types.ts";

/** A stable address for memory the native side reads after the call returns. */
function pinned(view: Float32Array | BigUint64Array): Pointer | null {
  if (view.length === 0) return null;
  void view.buffer; // materialise the backing store so the address cannot move
  return ptr(view);
}

/** Hidden wrapper that lets only this package construct indexes. @internal */
export class NativeIndex {
  constructor(readonly handle: Pointer) {}
}

/** The option types of the four upstream-compatible classes. */
export interface ClassicOptions {
  create: IndexOptions;
  build: BuildOptions;
  search: SearchOptions;
  batch: BatchOptions;
}

/** The option types of {@link IvfRabitqIndex}. */
export interface IvfOptionTypes {
  create: IvfIndexOptions;
  build: IvfBuildOptions;
  search: IvfSearchOptions;
  batch: IvfBatchOptions;
}

/** A concrete index class. @internal */
export type IndexClass<T> = (new (native: NativeIndex) => T) & { readonly kind: KindValue; readonly defaultRerank: number };

/** Fields shared by every index class. */
export abstract class VectorIndex implements Disposable {
  /** Variant number in the C ABI. @internal */
  static readonly kind: KindValue;
  /** Rerank factor used when the options give none. @internal */
  static readonly defaultRerank: number = 1;
  /** Type only: the option types of this class's methods (a loaded index of unknown class takes either). */
  declare readonly "~options": ClassicOptions | IvfOptionTypes;

  readonly #handle: NativeHandle;
  readonly #params: NativeParams;
  #length: number;
  #ids = new BigUint64Array(16);
  #scores = new Float32Array(16);
  readonly #count = new BigUint64Array(1);
  readonly #search = new NativeStruct(SearchOptionsStruct);

  /** Not for direct use: create indexes with `create`, `build`, `buildAsync`, `load`, `loadAsync`. */
  constructor(native: NativeIndex) {
    if (!(native instanceof NativeIndex)) {
      throw new InvalidArgument("use create(), build(), buildAsync(), load() or loadAsync() to make an index");
    }
    this.#handle = new NativeHandle(native.handle, lib().ruv_index_free, `${this.constructor.name}`);
    const info = this.#info();
    this.#params = paramsOf(info);
    this.#length = Number(info.u64("len"));
  }

  /** An empty index. */
  static create<T extends VectorIndex>(this: IndexClass<T>, options: T["~options"]["create"]): T {
    const p = nativeParams(this.kind, options, this.defaultRerank);
    const cell = new BigUint64Array(1);
    check(lib().ruv_index_new(paramsStruct(p), cell));
    return new this(new NativeIndex(outPointer(cell)));
  }

  /** Builds an index over `vectors` (n × dim, row-major) in parallel. */
  static build<T extends VectorIndex>(this: IndexClass<T>, vectors: Float32Array, options: T["~options"]["build"]): T {
    const p = nativeParams(this.kind, options, this.defaultRerank);
    if (options.onProgress !== undefined) throw new InvalidArgument("onProgress is reported by buildAsync only: build blocks the JS thread until it returns");
    checkVectors(vectors, p.dim, "vectors");
    const ids = options.ids ? toIds(options.ids, vectors.length / p.dim) : new BigUint64Array(0);
    const tags = checkTags(options.tags, vectors.length / p.dim);
    const cell = new BigUint64Array(1);
    check(lib().ruv_index_build_with(paramsStruct(p), vectors, vectors.length, ids, ids.length, addOptions(tags), cell));
    return new this(new NativeIndex(outPointer(cell)));
  }

  /**
   * `build` off the JS thread. The inputs are copied first (in slices, so the
   * event loop keeps running), so the caller may modify or transfer them at
   * once; transferring them during that copy fails the build with `InvalidArgument`.
   * `onProgress(done, total)` is called about every 100 ms while the native build runs.
   */
  static async buildAsync<T extends VectorIndex>(this: IndexClass<T>, vectors: Float32Array, options: T["~options"]["build"]): Promise<T> {
    const p = nativeParams(this.kind, options, this.defaultRerank);
    const onProgress = checkProgressCallback(options.onProgress);
    checkVectors(vectors, p.dim, "vectors");
    const ids = options.ids ? toIds(options.ids, vectors.length / p.dim).slice() : new BigUint64Array(0);
    const tags = checkTags(options.tags, vectors.length / p.dim)?.slice();
    const own = await copyInSlices(vectors, "vectors");
    const sym = lib();
    const params = paramsStruct(p);
    // The native call copies the tags before it returns.
    return runJob(
      (job) => sym.ruv_index_build_async_with(params, pinned(own), own.length, pinned(ids), ids.length, addOptions(tags), job),
      (job) => new this(new NativeIndex(takeIndex(job))),
      [own, ids],
      "index",
      onProgress,
    );
  }

  /**
   * Loads an index saved by `save` (or an upstream `rbpx0001` file, for {@link RabitqPlusIndex}).
   * `{ mmap: true }` maps an {@link IvfRabitqIndex} file instead of copying it (see {@link LoadOptions}).
   */
  static load<T>(this: IndexClass<T>, path: string, options: LoadOptions = {}): T {
    const bytes = utf8(checkPath(path));
    const opts = loadOptionsStruct(this.kind, options);
    const cell = new BigUint64Array(1);
    check(lib().ruv_index_load_with(bytes, bytes.length, opts, cell));
    return new this(new NativeIndex(outPointer(cell)));
  }

  /** `load` off the JS thread. */
  static loadAsync<T>(this: IndexClass<T>, path: string, options: LoadOptions = {}): Promise<T> {
    const bytes = utf8(checkPath(path));
    const opts = loadOptionsStruct(this.kind, options);
    const sym = lib();
    return runJob(
      (job) => sym.ruv_index_load_with_async(bytes, bytes.length, opts, job),
      (job) => new this(new NativeIndex(takeIndex(job))),
    );
  }

  #info(): NativeStruct<keyof typeof IndexInfo.fields> {
    const info = new NativeStruct(IndexInfo);
    check(lib().ruv_index_info(this.#handle.ptr, info.bytes));
    return info;
  }

  /** The native `RuvIndexInfo`, read now (an IVF index settles its parameters when first trained). @internal */
  protected nativeInfo(): NativeStruct<keyof typeof IndexInfo.fields> {
    return this.#info();
  }

  /** Number of vectors. */
  get length(): number {
    this.#handle.ptr;
    return this.#length;
  }
  /** Dimensions of every vector. */
  get dim(): number {
    return this.#params.dim;
  }
  /** Distance metric. */
  get metric(): Metric {
    return METRICS[this.#params.metric]!;
  }
  /** Rotation seed. */
  get seed(): bigint {
    return this.#params.seed;
  }
  /** Candidates reranked per query = k × rerankFactor. */
  get rerankFactor(): number {
    return this.#params.rerankFactor;
  }
  /** Bytes held in memory by the native index (codes, rotation, vectors and ids); a mapped file's bytes count in {@link mappedBytes} instead. */
  get memoryBytes(): number {
    return Number(this.#info().u64("memory_bytes"));
  }
  /** Bytes of the file an `mmap` load reads in place (page cache, shared; 0 otherwise). Mutations copy what they touch, so it shrinks. */
  get mappedBytes(): number {
    return Number(this.#info().u64("mapped_bytes"));
  }
  /** True after `close()`. */
  get closed(): boolean {
    return this.#handle.closed;
  }

  /** Appends one vector under `id` (with 64 tag bits, default 0); the dimension must match. */
  add(id: number, vector: Float32Array, tags?: bigint): void {
    this.addBatch(...this.#one(id, vector, tags));
  }

  /** Appends n vectors (n × dim) with their ids (and one u64 of tags each); either all are added or none. */
  addBatch(vectors: Float32Array, ids: IdsInput, tags?: BigUint64Array): void {
    this.#length += this.#writeRows(vectors, ids, tags, lib().ruv_index_add_with);
  }

  /** `[vector, [id], tags]`, checked, for the one-vector writes. */
  #one(id: number, vector: Float32Array, tags: bigint | undefined): [Float32Array, number[], BigUint64Array | undefined] {
    checkId(id);
    checkQuery(vector, this.dim, "vector");
    if (tags !== undefined && typeof tags !== "bigint") throw new InvalidArgument(`tags must be a bigint (64 tag bits), got ${describeValue(tags)}`);
    return [vector, [id], tags === undefined ? undefined : BigUint64Array.of(checkTagBits(tags))];
  }

  /** Checks n vectors, their ids and tags and passes them to a native write; returns n. */
  #writeRows(vectors: Float32Array, ids: IdsInput, tags: BigUint64Array | undefined, write: (idx: Pointer, v: Float32Array, len: number, ids: BigUint64Array, idsLen: number, options: Uint8Array) => number): number {
    const handle = this.#handle.ptr;
    checkVectors(vectors, this.dim, "vectors");
    const n = vectors.length / this.dim;
    const u64 = toIds(ids, n);
    check(write(handle, vectors, vectors.length, u64, u64.length, addOptions(checkTags(tags, n))));
    return n;
  }

  /**
   * Removes the vector of `id`; returns whether one was removed. An id not in
   * the index throws {@link UnknownId}, or returns false with `ignoreMissing`.
   * The row is dropped from memory by {@link compact} or the next save.
   */
  remove(id: number, options: RemoveOptions = {}): boolean {
    checkId(id);
    return this.removeBatch([id], options) === 1;
  }

  /**
   * Removes the vectors of `ids`, all or none (the first id not in the index
   * throws {@link UnknownId} naming it, unless `ignoreMissing`); returns how many were removed.
   */
  removeBatch(ids: IdsInput, options: RemoveOptions = {}): number {
    const handle = this.#handle.ptr;
    const u64 = toIdList(ids);
    const flags = checkRemoveOptions(options);
    check(lib().ruv_index_remove(handle, u64, u64.length, flags, this.#count));
    const removed = Number(this.#count[0]);
    this.#length -= removed;
    return removed;
  }

  /** Adds `vector` under `id` (with `tags`, default 0), replacing the vector and tags `id` had. */
  upsert(id: number, vector: Float32Array, tags?: bigint): void {
    this.upsertBatch(...this.#one(id, vector, tags));
  }

  /**
   * Adds n vectors (n × dim) under their ids (and tags, default 0), replacing the vectors
   * and tags of ids already present; all or none, and a concurrent search sees all of it or none.
   */
  upsertBatch(vectors: Float32Array, ids: IdsInput, tags?: BigUint64Array): void {
    this.#writeRows(vectors, ids, tags, lib().ruv_index_upsert_with);
    this.#length = Number(this.#info().u64("len"));
  }

  /** Frees the rows of removed vectors now (saves write compacted files anyway); searches answer as before. */
  compact(): void {
    check(lib().ruv_index_compact(this.#handle.ptr));
  }

  /**
   * The k nearest vectors to `query`, best first: min(k, length) hits, or fewer
   * when `options.filter` passes fewer vectors (`[]` when it passes none).
   */
  search(query: Float32Array, k: number, options: this["~options"]["search"] = {}): SearchHit[] {
    const handle = this.#handle.ptr;
    checkQuery(query, this.dim);
    checkK(k);
    const overrides = searchOverrides(this.#params.kind, options);
    const filters = singleFilter(options.filter);
    const cap = Math.min(k, this.#length);
    if (this.#ids.length < cap) {
      this.#ids = new BigUint64Array(cap);
      this.#scores = new Float32Array(cap);
    }
    const ids = this.#ids;
    const scores = this.#scores;
    const search = withFilters(this.#search.set("k", k).set("rerank_factor", overrides.rerank_factor).set("nprobe", overrides.nprobe).set("rerank", overrides.rerank), filters).bytes;
    check(lib().ruv_index_search(handle, query, query.length, search, ids, scores, cap, this.#count));
    void filters.bytes; // the filters' memory stays alive until the call returns
    const n = Number(this.#count[0]);
    const hits = new Array<SearchHit>(n);
    for (let i = 0; i < n; i++) hits[i] = { id: Number(ids[i]), score: scores[i]! };
    return hits;
  }

  /** `search` off the JS thread. */
  searchAsync(query: Float32Array, k: number, options: this["~options"]["search"] = {}): Promise<SearchHit[]> {
    const handle = this.#handle.ptr;
    checkQuery(query, this.dim);
    checkK(k);
    const filters = singleFilter(options.filter);
    const search = withFilters(new NativeStruct(SearchOptionsStruct, { k, ...searchOverrides(this.#params.kind, options) }), filters).bytes;
    const sym = lib();
    // The job's snapshot holds the writes made so far: its hit count is fixed now.
    const cap = Math.min(k, this.#length);
    // The native call copies the filters before it returns.
    return runJob(
      (job) => sym.ruv_index_search_async(handle, query, query.length, search, job),
      (job) => {
        const { ids, scores } = takeHits(job, cap);
        return Array.from(ids, (id, i) => ({ id, score: scores[i]! }));
      },
    );
  }

  /** Searches m queries (m × dim) in parallel; results come back in typed arrays. */
  searchBatch(queries: Float32Array, k: number, options: this["~options"]["batch"] = {}): BatchResult {
    const b = this.#batch(queries, k, options);
    const ids = new BigUint64Array(b.m * b.kEff);
    const scores = new Float32Array(b.m * b.kEff);
    check(lib().ruv_index_search_batch(b.handle, queries, queries.length, b.search, ids, scores, ids.length, this.#count));
    void b.filters.bytes;
    return new BatchResult(b.m, b.kEff, hitIds(ids), scores);
  }

  #batch(queries: Float32Array, k: number, options: BatchOptions | IvfBatchOptions) {
    const handle = this.#handle.ptr;
    checkVectors(queries, this.dim, "queries");
    checkK(k);
    const overrides = searchOverrides(this.#params.kind, options, true);
    const m = queries.length / this.dim;
    const filters = batchFilters(options.filter, m);
    const search = withFilters(new NativeStruct(SearchOptionsStruct, { k, ...overrides, threads: checkThreads(options.threads) }), filters).bytes;
    return { handle, search, filters, m, kEff: Math.min(k, this.#length) };
  }

  /** `searchBatch` off the JS thread. */
  searchBatchAsync(queries: Float32Array, k: number, options: this["~options"]["batch"] = {}): Promise<BatchResult> {
    const b = this.#batch(queries, k, options);
    const sym = lib();
    return runJob(
      (job) => sym.ruv_index_search_batch_async(b.handle, queries, queries.length, b.search, job),
      (job) => {
        const { ids, scores } = takeHits(job, b.m * b.kEff);
        return new BatchResult(b.m, b.kEff, ids, scores);
      },
    );
  }

  /** The stored vector of `id` (unit length under cosine), or undefined if absent. */
  get(id: number): Float32Array | undefined {
    const handle = this.#handle.ptr;
    checkId(id);
    const out = new Float32Array(this.dim);
    const status = lib().ruv_index_get(handle, id, out, out.length);
    if (status === Status.NotFound) return undefined;
    check(status);
    return out;
  }

  /** The 64 tag bits of `id` (0n when it was given none), or undefined if absent. */
  tagsOf(id: number): bigint | undefined {
    const handle = this.#handle.ptr;
    checkId(id);
    const out = new BigUint64Array(1);
    const status = lib().ruv_index_get_tags(handle, id, out);
    if (status === Status.NotFound) return undefined;
    check(status);
    return out[0]!;
  }

  /** The tags of every vector, in the order of {@link ids} (0n for vectors given none). */
  tags(): BigUint64Array {
    const out = new BigUint64Array(this.length);
    check(lib().ruv_index_tags(this.#handle.ptr, out, out.length));
    return out;
  }

  /** All ids in insertion order. */
  ids(): Float64Array {
    const out = new BigUint64Array(this.length);
    check(lib().ruv_index_ids(this.#handle.ptr, out, out.length));
    return Float64Array.from(out, Number);
  }

  /** All stored vectors in insertion order (length × dim), as a copy: upstream keeps its rows private. */
  toFloat32Array(): Float32Array {
    const out = new Float32Array(this.length * this.dim);
    check(lib().ruv_index_vectors(this.#handle.ptr, out, out.length));
    return out;
  }

  /** `[id, vector]` pairs in insertion order; vectors are views into one snapshot. */
  *entries(): IterableIterator<[number, Float32Array]> {
    const ids = this.ids();
    const all = this.toFloat32Array();
    for (let i = 0; i < ids.length; i++) yield [ids[i]!, all.subarray(i * this.dim, (i + 1) * this.dim)];
  }

  [Symbol.iterator](): IterableIterator<[number, Float32Array]> {
    return this.entries();
  }

  /** True when both indexes are the same variant with the same parameters, ids and data. */
  equals(other: VectorIndex): boolean {
    if (!(other instanceof VectorIndex)) return false;
    const out = new Int32Array(1);
    check(lib().ruv_index_equals(this.#handle.ptr, other.#handle.ptr, out));
    return out[0] === 1;
  }

  /** Saves atomically: temp file, fsync, rename. */
  save(path: string): void {
    const bytes = utf8(checkPath(path));
    check(lib().ruv_index_save(this.#handle.ptr, bytes, bytes.length));
  }

  /** `save` off the JS thread. */
  saveAsync(path: string): Promise<void> {
    const handle = this.#handle.ptr;
    const bytes = utf8(checkPath(path));
    const sym = lib();
    return runJob(
      (job) => sym.ruv_index_save_async(handle, bytes, bytes.length, job),
      () => undefined,
    );
  }

  /** Frees the native index. Safe to call twice; in-flight async work finishes first. */
  close(): void {
    this.#handle.close();
  }

  [Symbol.dispose](): void {
    this.#handle.dispose();
    this.close();
  }

  toString(): string {
    if (this.closed) return `${KIND_NAMES[this.#params.kind]} { closed }`;
    return `${KIND_NAMES[this.#params.kind]} { n: ${this.length}, dim: ${this.dim}, metric: "${this.metric}"${this.describeTuning()}, memory: "${formatBytes(this.memoryBytes)}"${this.#describeMapping()} }`;
  }

  /** `, mapped: "…"` for `toString` when a mapped file is read in place. */
  #describeMapping(): string {
    const mapped = this.mappedBytes;
    return mapped > 0 ? `, mapped: "${formatBytes(mapped)}"` : "";
  }

  /** The variant's own parameters for `toString`, as `, name: value` pairs. @internal */
  protected describeTuning(): string {
    return this.#params.kind === Kind.Flat ? "" : `, rerankFactor: ${this.rerankFactor}`;
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}

/** Batch ids as numbers, empty slots (`RUV_NO_HIT_ID`) as -1. */
function hitIds(ids: BigUint64Array): Float64Array {
  return Float64Array.from(ids, (id) => (id === NO_HIT ? -1 : Number(id)));
}

const NO_HIT = (1n << 64n) - 1n;

/** A tags bigint, checked to fit 64 bits. */
function checkTagBits(tags: bigint): bigint {
  if (tags < 0n || tags >= 1n << 64n) throw new InvalidArgument(`tags must be a bigint in 0n..2n**64n-1n (64 tag bits), got ${tags}n`);
  return tags;
}

/** The `ruv_index_remove` flags for `options`. */
function checkRemoveOptions(options: RemoveOptions): number {
  if (typeof options !== "object" || options === null) throw new InvalidArgument(`remove options must be an object, got ${options}`);
  const { ignoreMissing = false } = options;
  if (typeof ignoreMissing !== "boolean") throw new InvalidArgument(`ignoreMissing must be a boolean, got ${ignoreMissing}`);
  return ignoreMissing ? RemoveFlag.IgnoreMissing : 0;
}

/** The parameters an info struct reports. */
function paramsOf(info: NativeStruct<keyof typeof IndexInfo.fields>): NativeParams {
  return {
    kind: info.u32("params.kind") as KindValue,
    dim: info.u32("params.dim"),
    seed: info.u64("params.seed"),
    rerankFactor: info.u32("params.rerank_factor"),
    metric: info.u32("params.metric"),
    padToWord: info.u32("params.pad_to_word"),
    nlist: info.u32("params.nlist"),
    exBits: info.u32("params.ex_bits"),
    store: info.u32("params.store"),
    nprobe: info.u32("params.nprobe"),
    rerank: info.u32("params.rerank"),
    targetRecall: info.f32("params.target_recall"),
  };
}

/** The index handle a finished build or load job produced. @internal */
export function takeIndex(job: Pointer): Pointer {
  const cell = new BigUint64Array(1);
  check(lib().ruv_job_take_index(job, cell));
  return outPointer(cell);
}

function takeHits(job: Pointer, cap: number): { ids: Float64Array; scores: Float32Array } {
  const ids = new BigUint64Array(cap);
  const scores = new Float32Array(cap);
  const len = new BigUint64Array(1);
  check(lib().ruv_job_take_hits(job, ids, scores, cap, len));
  const n = Number(len[0]);
  return { ids: hitIds(ids.subarray(0, n)), scores: scores.slice(0, n) };
}

