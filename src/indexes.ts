/**
 * Vector indexes over the native RaBitQ engines: exact {@link FlatF32Index}
 * and the 1-bit {@link RabitqIndex}, {@link RabitqPlusIndex} (recommended) and
 * {@link RabitqAsymIndex}.
 */
import { ptr, type Pointer } from "bun:ffi";
import { DimensionMismatch, InvalidArgument } from "./errors.ts";
import { check, lib, outPointer, Status, statusError, utf8 } from "./ffi.ts";
import { NativeHandle, runJob } from "./runtime.ts";
import { formatBytes } from "./units.ts";

/** Distance metric. `cosine` normalises vectors on the way in and reports cosine distance (1 − cos). */
export type Metric = "l2" | "cosine";

/** Ids for a batch of vectors: non-negative integers up to 2^53 − 1, unique within an index. */
export type IdsInput = Uint32Array | BigUint64Array | readonly number[];

/** Parameters fixed when an index is created. */
export interface IndexOptions {
  /** Dimensions of every vector (1..8192). */
  dim: number;
  /** Seed of the random rotation (quantized variants). Same seed + data ⇒ identical index. Default 42. */
  seed?: number | bigint;
  /** Candidates reranked exactly per query = k × rerankFactor (1..1024). Default: 20 for Plus, 1 otherwise. */
  rerankFactor?: number;
  /** `"l2"` (squared L2 scores, the default) or `"cosine"` (cosine-distance scores). */
  metric?: Metric;
  /** Zero-pad quantized variants to a multiple of 64 dimensions before the rotation (more code bits, better recall). Default true. */
  padToWord?: boolean;
}

/** Options of `build`: index parameters plus optional ids (default 0..n−1). */
export interface BuildOptions extends IndexOptions {
  ids?: IdsInput;
}

/** One search result: the vector's id and its distance (ascending = better). */
export interface SearchHit {
  id: number;
  score: number;
}

/** Per-search options. */
export interface SearchOptions {
  /** Override the index's rerank factor for this search (RabitqPlusIndex only; 1..1024). */
  rerankFactor?: number;
}

/** Options of batch searches. */
export interface BatchOptions extends SearchOptions {
  /** Worker threads: 0 (default) = all cores, 1 = the calling thread only. */
  threads?: number;
}

/** Results of a batch search: `k` hits per query in flat typed arrays. */
export class BatchResult {
  /** @param ids query-major ids, `count × k` @param scores matching scores */
  constructor(
    readonly count: number,
    readonly k: number,
    readonly ids: Float64Array,
    readonly scores: Float32Array,
  ) {}

  /** Hits of query `i`, best first. */
  hits(i: number): SearchHit[] {
    if (!Number.isInteger(i) || i < 0 || i >= this.count) {
      throw new InvalidArgument(`query index ${i} out of range (0..${this.count - 1})`);
    }
    const out: SearchHit[] = [];
    for (let j = i * this.k; j < (i + 1) * this.k; j++) out.push({ id: this.ids[j]!, score: this.scores[j]! });
    return out;
  }
}

/** The variant numbers of the C ABI. */
const Kind = { Flat: 0, Rabitq: 1, Plus: 2, Asym: 3 } as const;
type KindValue = (typeof Kind)[keyof typeof Kind];
const KIND_NAMES = ["FlatF32Index", "RabitqIndex", "RabitqPlusIndex", "RabitqAsymIndex"] as const;
const METRICS: readonly Metric[] = ["l2", "cosine"];
const MAX_SAFE_ID = Number.MAX_SAFE_INTEGER;
const ANY_KIND = 0xffff_ffff;

interface NativeParams {
  kind: KindValue;
  dim: number;
  seed: bigint;
  rerankFactor: number;
  metric: number;
  padToWord: number;
}

function isPositiveInt(x: unknown, max: number): x is number {
  return typeof x === "number" && Number.isInteger(x) && x >= 1 && x <= max;
}

function nativeParams(kind: KindValue, o: IndexOptions, defaultRerank: number): NativeParams {
  if (typeof o !== "object" || o === null) throw new InvalidArgument("options object with a dim is required");
  if (!isPositiveInt(o.dim, 8192)) throw new InvalidArgument(`dim must be an integer in 1..8192, got ${o.dim}`);
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

function checkFloat32(vectors: unknown, what: string): asserts vectors is Float32Array {
  if (!(vectors instanceof Float32Array)) {
    const got = vectors === null ? "null" : ((vectors as object)?.constructor?.name ?? typeof vectors);
    throw new InvalidArgument(`${what} must be a Float32Array, got ${got}`);
  }
  checkAttached(vectors, what);
}

/** A transferred (detached) buffer reads as empty: refuse it rather than silently use no data. */
function checkAttached(view: ArrayBufferView, what: string): void {
  if ((view.buffer as ArrayBuffer).detached) throw new InvalidArgument(`${what} is a detached ${view.constructor.name} (its buffer was transferred)`);
}

function checkVectors(vectors: unknown, dim: number, what: string): asserts vectors is Float32Array {
  checkFloat32(vectors, what);
  if (vectors.length % dim !== 0) {
    throw new InvalidArgument(`${what} length ${vectors.length} is not a multiple of dim ${dim}`);
  }
}

function checkQuery(query: unknown, dim: number): asserts query is Float32Array {
  checkFloat32(query, "query");
  if (query.length !== dim) throw new DimensionMismatch(dim, query.length);
}

function checkK(k: unknown): asserts k is number {
  if (typeof k !== "number" || !Number.isInteger(k) || k < 1 || k > 0x7fff_ffff) {
    throw new InvalidArgument(`k must be a positive integer, got ${k}`);
  }
}

function checkThreads(threads: unknown): number {
  const t = threads ?? 0;
  if (typeof t !== "number" || !Number.isInteger(t) || t < 0 || t > 1024) {
    throw new InvalidArgument(`threads must be an integer in 0..1024, got ${threads}`);
  }
  return t;
}

function searchRerank(options: SearchOptions): number {
  const rf = options.rerankFactor;
  if (rf === undefined) return 0;
  if (!isPositiveInt(rf, 1024)) throw new InvalidArgument(`rerankFactor must be an integer in 1..1024, got ${rf}`);
  return rf;
}

function checkId(id: unknown): asserts id is number {
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 0) {
    throw new InvalidArgument(`id must be an integer in 0..2^53-1, got ${id}`);
  }
}

/** Converts ids to the u64 array the C ABI takes, rejecting anything that is not an exact id. */
function toIds(ids: IdsInput, n: number): BigUint64Array {
  if (ids.length !== n) throw new InvalidArgument(`got ${ids.length} ids for ${n} vectors`);
  if (ids instanceof BigUint64Array) return ids;
  if (ids instanceof Uint32Array) return BigUint64Array.from(ids, BigInt);
  if (!Array.isArray(ids)) {
    throw new InvalidArgument(`ids must be a Uint32Array, BigUint64Array or number[], got ${(ids as object).constructor?.name}`);
  }
  const out = new BigUint64Array(n);
  for (let i = 0; i < n; i++) {
    const id = ids[i];
    if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 0 || id > MAX_SAFE_ID) {
      throw new InvalidArgument(`ids[${i}] = ${id} is not an integer in 0..2^53-1`);
    }
    out[i] = BigInt(id);
  }
  return out;
}

/** Floats copied per event-loop turn by {@link copyInSlices} (8 MiB, about a millisecond). */
const COPY_SLICE = 2 << 20;

/**
 * A private copy of `source` that nothing else can transfer, made a slice per
 * event-loop turn; a source transferred meanwhile is an `InvalidArgument`.
 */
async function copyInSlices(source: Float32Array, what: string): Promise<Float32Array> {
  const out = new Float32Array(source.length);
  for (let at = 0; at < source.length; at += COPY_SLICE) {
    if (at > 0) await new Promise((resolve) => setImmediate(resolve));
    checkAttached(source, what);
    out.set(source.subarray(at, at + COPY_SLICE), at);
  }
  return out;
}

/** A stable address for memory the native side reads after the call returns. */
function pinned(view: Float32Array | BigUint64Array): Pointer | null {
  if (view.length === 0) return null;
  void view.buffer; // materialise the backing store so the address cannot move
  return ptr(view);
}

/** Hidden wrapper that lets only this module construct indexes. */
class NativeIndex {
  constructor(readonly handle: Pointer) {}
}

type IndexClass<T> = (new (native: NativeIndex) => T) & { readonly kind: KindValue; readonly defaultRerank: number };

/** Fields shared by every index class. */
export abstract class VectorIndex implements Disposable {
  /** Variant number in the C ABI. @internal */
  static readonly kind: KindValue;
  /** Rerank factor used when the options give none. @internal */
  static readonly defaultRerank: number = 1;

  readonly #handle: NativeHandle;
  readonly #params: NativeParams;
  #length: number;
  #ids = new BigUint64Array(16);
  #scores = new Float32Array(16);
  readonly #count = new BigUint64Array(1);

  /** Not for direct use: create indexes with `create`, `build`, `buildAsync`, `load`. */
  constructor(native: NativeIndex) {
    if (!(native instanceof NativeIndex)) {
      throw new InvalidArgument("use create(), build(), buildAsync(), load() or loadSync() to make an index");
    }
    this.#handle = new NativeHandle(native.handle, lib().ruv_index_free, `${this.constructor.name}`);
    const info = this.#info();
    this.#params = {
      kind: Number(info[0]) as KindValue,
      dim: Number(info[1]),
      seed: info[2]!,
      rerankFactor: Number(info[3]),
      metric: Number(info[4]),
      padToWord: Number(info[5]),
    };
    this.#length = Number(info[6]);
  }

  /** An empty index. */
  static create<T>(this: IndexClass<T>, options: IndexOptions): T {
    const p = nativeParams(this.kind, options, this.defaultRerank);
    const cell = new BigUint64Array(1);
    check(lib().ruv_index_new(p.kind, p.dim, p.seed, p.rerankFactor, p.metric, p.padToWord, cell));
    return new this(new NativeIndex(outPointer(cell)));
  }

  /** Builds an index over `vectors` (n × dim, row-major) in parallel. */
  static build<T>(this: IndexClass<T>, vectors: Float32Array, options: BuildOptions): T {
    const p = nativeParams(this.kind, options, this.defaultRerank);
    checkVectors(vectors, p.dim, "vectors");
    const ids = options.ids ? toIds(options.ids, vectors.length / p.dim) : new BigUint64Array(0);
    const cell = new BigUint64Array(1);
    check(
      lib().ruv_index_build(p.kind, p.dim, p.seed, p.rerankFactor, p.metric, p.padToWord, vectors, vectors.length, ids, ids.length, cell),
    );
    return new this(new NativeIndex(outPointer(cell)));
  }

  /**
   * `build` off the JS thread. The inputs are copied first (in slices, so the
   * event loop keeps running), so the caller may modify or transfer them at
   * once; transferring them during that copy fails the build with `InvalidArgument`.
   */
  static async buildAsync<T>(this: IndexClass<T>, vectors: Float32Array, options: BuildOptions): Promise<T> {
    const p = nativeParams(this.kind, options, this.defaultRerank);
    checkVectors(vectors, p.dim, "vectors");
    const ids = options.ids ? toIds(options.ids, vectors.length / p.dim).slice() : new BigUint64Array(0);
    const own = await copyInSlices(vectors, "vectors");
    const sym = lib();
    return runJob(
      (job) => sym.ruv_index_build_async(p.kind, p.dim, p.seed, p.rerankFactor, p.metric, p.padToWord, pinned(own), own.length, pinned(ids), ids.length, job),
      (job) => new this(new NativeIndex(takeIndex(job))),
      [own, ids],
    );
  }

  /** Loads an index saved by `save` (or an upstream `rbpx0001` file, for {@link RabitqPlusIndex}). */
  static load<T>(this: IndexClass<T>, path: string): Promise<T> {
    const bytes = utf8(checkPath(path));
    const sym = lib();
    return runJob(
      (job) => sym.ruv_index_load_async(bytes, bytes.length, this.kind, job),
      (job) => new this(new NativeIndex(takeIndex(job))),
    );
  }

  /** `load`, on the calling thread. */
  static loadSync<T>(this: IndexClass<T>, path: string): T {
    const bytes = utf8(checkPath(path));
    const cell = new BigUint64Array(1);
    check(lib().ruv_index_load(bytes, bytes.length, this.kind, cell));
    return new this(new NativeIndex(outPointer(cell)));
  }

  #info(): BigUint64Array {
    const info = new BigUint64Array(8);
    check(lib().ruv_index_info(this.#handle.ptr, info));
    return info;
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
  /** Bytes held by the native index (codes, rotation, vectors and ids). */
  get memoryBytes(): number {
    return Number(this.#info()[7]);
  }
  /** True after `close()`. */
  get closed(): boolean {
    return this.#handle.closed;
  }

  /** Appends one vector under `id`; the dimension must match. */
  add(id: number, vector: Float32Array): void {
    checkId(id);
    checkQuery(vector, this.dim);
    this.addBatch(vector, [id]);
  }

  /** Appends n vectors (n × dim) with their ids; either all are added or none. */
  addBatch(vectors: Float32Array, ids: IdsInput): void {
    const handle = this.#handle.ptr;
    checkVectors(vectors, this.dim, "vectors");
    const n = vectors.length / this.dim;
    const u64 = toIds(ids, n);
    check(lib().ruv_index_add(handle, vectors, vectors.length, u64, u64.length));
    this.#length += n;
  }

  /** The k nearest vectors to `query`, best first. Returns min(k, length) hits. */
  search(query: Float32Array, k: number, options: SearchOptions = {}): SearchHit[] {
    const handle = this.#handle.ptr;
    checkQuery(query, this.dim);
    checkK(k);
    const rf = searchRerank(options);
    const cap = Math.min(k, this.#length);
    if (this.#ids.length < cap) {
      this.#ids = new BigUint64Array(cap);
      this.#scores = new Float32Array(cap);
    }
    const ids = this.#ids;
    const scores = this.#scores;
    check(lib().ruv_index_search(handle, query, query.length, k, rf, ids, scores, cap, this.#count));
    const n = Number(this.#count[0]);
    const hits = new Array<SearchHit>(n);
    for (let i = 0; i < n; i++) hits[i] = { id: Number(ids[i]), score: scores[i]! };
    return hits;
  }

  /** `search` off the JS thread. */
  searchAsync(query: Float32Array, k: number, options: SearchOptions = {}): Promise<SearchHit[]> {
    const handle = this.#handle.ptr;
    checkQuery(query, this.dim);
    checkK(k);
    const rf = searchRerank(options);
    const sym = lib();
    return runJob(
      (job) => sym.ruv_index_search_async(handle, query, query.length, k, rf, job),
      (job) => {
        const { ids, scores } = takeHits(job, Math.min(k, this.#length));
        return Array.from(ids, (id, i) => ({ id, score: scores[i]! }));
      },
    );
  }

  /** Searches m queries (m × dim) in parallel; results come back in typed arrays. */
  searchBatch(queries: Float32Array, k: number, options: BatchOptions = {}): BatchResult {
    const b = this.#batch(queries, k, options);
    const ids = new BigUint64Array(b.m * b.kEff);
    const scores = new Float32Array(b.m * b.kEff);
    check(lib().ruv_index_search_batch(b.handle, queries, queries.length, k, b.rf, b.threads, ids, scores, ids.length, this.#count));
    return new BatchResult(b.m, b.kEff, Float64Array.from(ids, Number), scores);
  }

  #batch(queries: Float32Array, k: number, options: BatchOptions) {
    const handle = this.#handle.ptr;
    checkVectors(queries, this.dim, "queries");
    checkK(k);
    return { handle, threads: checkThreads(options.threads), rf: searchRerank(options), m: queries.length / this.dim, kEff: Math.min(k, this.#length) };
  }

  /** `searchBatch` off the JS thread. */
  searchBatchAsync(queries: Float32Array, k: number, options: BatchOptions = {}): Promise<BatchResult> {
    const b = this.#batch(queries, k, options);
    const sym = lib();
    return runJob(
      (job) => sym.ruv_index_search_batch_async(b.handle, queries, queries.length, k, b.rf, b.threads, job),
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

  /** Saves atomically (temp file, fsync, rename) off the JS thread. */
  save(path: string): Promise<void> {
    const handle = this.#handle.ptr;
    const bytes = utf8(checkPath(path));
    const sym = lib();
    return runJob(
      (job) => sym.ruv_index_save_async(handle, bytes, bytes.length, job),
      () => undefined,
    );
  }

  /** `save`, on the calling thread. */
  saveSync(path: string): void {
    const bytes = utf8(checkPath(path));
    check(lib().ruv_index_save(this.#handle.ptr, bytes, bytes.length));
  }

  /** Frees the native index. Safe to call twice; in-flight async work finishes first. */
  close(): void {
    this.#handle.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  toString(): string {
    if (this.closed) return `${KIND_NAMES[this.#params.kind]} { closed }`;
    const rf = this.#params.kind === Kind.Flat ? "" : `, rerankFactor: ${this.rerankFactor}`;
    return `${KIND_NAMES[this.#params.kind]} { n: ${this.length}, dim: ${this.dim}, metric: "${this.metric}"${rf}, memory: "${formatBytes(this.memoryBytes)}" }`;
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}

function checkPath(path: unknown): string {
  if (typeof path !== "string" || path.length === 0 || path.includes("\0")) {
    throw new InvalidArgument(`path must be a non-empty string without NUL bytes, got ${JSON.stringify(path)}`);
  }
  return path;
}

function takeIndex(job: Pointer): Pointer {
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
  return { ids: Float64Array.from(ids.subarray(0, n), Number), scores: scores.slice(0, n) };
}

/** Exact brute-force index: the ground-truth baseline. Keeps every vector. */
export class FlatF32Index extends VectorIndex {
  static override readonly kind = Kind.Flat;
}

/** 1-bit RaBitQ codes only (symmetric estimator, no rerank): smallest memory, lowest recall. */
export class RabitqIndex extends VectorIndex {
  static override readonly kind = Kind.Rabitq;
}

/** RaBitQ codes plus originals, exact rerank of k × rerankFactor candidates. The recommended default. */
export class RabitqPlusIndex extends VectorIndex {
  static override readonly kind = Kind.Plus;
  static override readonly defaultRerank = 20;
}

/** Asymmetric RaBitQ estimator (f32 query vs 1-bit codes); rerankFactor > 1 keeps originals for exact rerank. */
export class RabitqAsymIndex extends VectorIndex {
  static override readonly kind = Kind.Asym;
}

/** Loads an index file of any variant. */
export async function loadIndex(path: string): Promise<VectorIndex> {
  const bytes = utf8(checkPath(path));
  const sym = lib();
  const handle = await runJob(
    (job) => sym.ruv_index_load_async(bytes, bytes.length, ANY_KIND, job),
    (job) => takeIndex(job),
  );
  const info = new BigUint64Array(8);
  const status = sym.ruv_index_info(handle, info);
  if (status !== 0) {
    const err = statusError(status);
    sym.ruv_index_free(handle);
    throw err;
  }
  const cls = [FlatF32Index, RabitqIndex, RabitqPlusIndex, RabitqAsymIndex][Number(info[0])]!;
  return new cls(new NativeIndex(handle));
}

