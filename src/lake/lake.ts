/**
 * RuLake: a cache-first vector layer over any number of backends. Searches
 * run on native indexes cached per collection state (keyed by a SHAKE-256
 * witness); freshness checks and pulls run on the JS side (./freshness.ts),
 * so backends written in TypeScript work and native threads never call into JS.
 */
import { BackendError, CacheMissError, InvalidArgument } from "../errors.ts";
import { check as checkStatus, ConsistencyCode, LakeCheckFlag, LakeEngineCode, lib, outPointer, readString, StatsScope, utf8 } from "../ffi.ts";
import { IVF_FROM_ROWS } from "../index/recommend.ts";
import { engineConfig, type LakeEngine, type LakeIvfOptions } from "./engine.ts";
import { checkOptionKeys, describeValue, optionKeys } from "../options.ts";
import { CacheStatsStruct, LakeConfig, NativeStruct, SearchOptionsStruct } from "../structs.ts";
import { idFilters, singleFilter, withFilters, type IdFilter, type NativeFilters } from "../index/filter.ts";
import { NativeHandle, runJob } from "../runtime.ts";
import { join } from "node:path";
import type { BackendAdapter, BundleInfo } from "./backend.ts";
import { Consistency, REFRESH_RESULTS, type RefreshResult } from "./consistency.ts";
import { LakeSession } from "./session.ts";
import { ask, collectionState, FreshnessProtocol } from "./freshness.ts";
import { toCacheStats, type CacheStats } from "./stats.ts";
import { collectionScope, type CollectionScope } from "./validate.ts";

/** A collection within the lake: `[backendId, collection]`. */
export type CollectionKey = readonly [backend: string, collection: string];

/** One search result, with where it came from. `score` is squared L2, ascending. */
export interface LakeHit {
  backend: string;
  collection: string;
  id: number;
  score: number;
}

/** Lake settings; see {@link RuLakeBuilder}. */
export interface LakeOptions {
  rerankFactor: number;
  rotationSeed: number | bigint;
  maxCacheEntries: number;
  maxCacheBytes: number;
  consistency: Consistency;
  backendTimeoutMs: number;
  /** Which index collections are cached as (default `"plus"`). */
  engine?: LakeEngine;
  /** The IVF engine's calibration target (default 0.95). */
  targetRecall?: number;
  /** Explicit IVF engine options; they override what `targetRecall` implies. */
  ivf?: LakeIvfOptions;
}

const LAKE_KEYS = optionKeys<LakeOptions>({
  rerankFactor: true, rotationSeed: true, maxCacheEntries: true, maxCacheBytes: true, consistency: true, backendTimeoutMs: true, engine: true, targetRecall: true, ivf: true,
});

/** A failed lake call: I/O failures become {@link LakeIoError}. */
function check(status: number): void {
  checkStatus(status, "lake");
}

/** The IVF engine's default calibration target. */
const DEFAULT_TARGET_RECALL = 0.95;

/** The sidecar beside a saved cache, and the most bytes the native side reads of it. */
const SIDECAR = "table.rulake.json";
const SIDECAR_MAX_BYTES = 64 * 1024;

const CONSISTENCY_CODE = { fresh: ConsistencyCode.Fresh, eventual: ConsistencyCode.Eventual, frozen: ConsistencyCode.Frozen } as const;

/** Fluent construction of a {@link RuLake}. */
export class RuLakeBuilder {
  readonly #o: LakeOptions = {
    rerankFactor: 20,
    rotationSeed: 42,
    maxCacheEntries: 0,
    maxCacheBytes: 0,
    consistency: Consistency.fresh(),
    backendTimeoutMs: 30_000,
    engine: "plus",
    targetRecall: DEFAULT_TARGET_RECALL,
    ivf: {},
  };
  /** Candidates reranked per query = k × factor (1..1024; default 20). */
  rerankFactor(n: number): this {
    this.#o.rerankFactor = n;
    return this;
  }
  /** Seed of the random rotation (default 42); part of every witness. */
  rotationSeed(n: number | bigint): this {
    this.#o.rotationSeed = n;
    return this;
  }
  /** Most collection states cached at once (0 = unbounded). */
  maxCacheEntries(n: number): this {
    this.#o.maxCacheEntries = n;
    return this;
  }
  /** Most bytes of cached indexes (0 = unbounded); least recently used go first. */
  maxCacheBytes(n: number): this {
    this.#o.maxCacheBytes = n;
    return this;
  }
  /** When searches may skip asking the backend (default fresh). */
  consistency(c: Consistency): this {
    this.#o.consistency = c;
    return this;
  }
  /** How long a backend call may take before it fails with BackendError (default 30 s). */
  backendTimeoutMs(n: number): this {
    this.#o.backendTimeoutMs = n;
    return this;
  }
  /**
   * Which index collections are cached as; part of every witness. `"plus"` (the default): RabitqPlusIndex,
   * upstream's engine, witnesses and bundles upstream reads. `"ivf"`: IvfRabitqIndex built for
   * {@link targetRecall}. `"auto"`: IVF for collections of at least 10,000 vectors (where `recommend()`
   * picks IVF), Plus below; decided at each full pull. {@link RuLake.engineOf} says which one a collection got.
   */
  engine(name: LakeEngine): this {
    this.#o.engine = name;
    return this;
  }
  /** Recall@10 the IVF engine calibrates nprobe for on each collection's own rows, in (0, 1] (default 0.95); above 0.96 it keeps an f16 store and reranks 40. */
  targetRecall(recall: number): this {
    this.#o.targetRecall = recall;
    return this;
  }
  /** IVF engine options (nlist, exBits, store, nprobe, rerank) overriding what {@link targetRecall} implies. */
  ivfOptions(options: LakeIvfOptions): this {
    this.#o.ivf = options;
    return this;
  }
  build(): RuLake {
    return new RuLake(this.#o);
  }
}

function checkCount(name: string, n: number, max = Number.MAX_SAFE_INTEGER, min = 0): void {
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgument(`${name} must be an integer in ${min}..${max}, got ${n}`);
}

/** The cache-first, federated vector lake. Create it with {@link RuLake.builder}. */
export class RuLake implements Disposable {
  readonly #handle: NativeHandle;
  readonly #options: LakeOptions;
  readonly #backends = new Map<string, BackendAdapter>();
  readonly #keys = new Map<string, number>();
  readonly #freshness: FreshnessProtocol;
  readonly #scratch = { ids: new BigUint64Array(64), scores: new Float32Array(64), shards: new Uint32Array(64), count: new BigUint64Array(1) };
  /** `LakeCheckFlag.Uncounted` while a warm start runs its throwaway searches, else 0. */
  #checkFlags = 0;

  /** Use {@link RuLake.builder}. */
  constructor(options: LakeOptions) {
    checkOptionKeys(options, LAKE_KEYS, "RuLake options");
    const o = options;
    checkCount("rerankFactor", o.rerankFactor, 1024, 1);
    checkCount("maxCacheEntries", o.maxCacheEntries);
    checkCount("maxCacheBytes", o.maxCacheBytes);
    checkCount("backendTimeoutMs", o.backendTimeoutMs, 2 ** 31 - 1, 1);
    const s = o.rotationSeed;
    const integral = typeof s === "bigint" || (typeof s === "number" && Number.isSafeInteger(s));
    const seed = integral ? BigInt(s) : -1n;
    if (seed < 0n || seed >= 2n ** 64n) throw new InvalidArgument(`rotationSeed must be an integer in 0..2^64-1, got ${String(s)}`);
    const c = o.consistency;
    const ttl = c.kind === "eventual" ? c.ttlMs : 0;
    const config = new NativeStruct(LakeConfig, {
      rerank_factor: o.rerankFactor,
      rotation_seed: seed,
      consistency: CONSISTENCY_CODE[c.kind],
      ttl_ms: ttl,
      max_entries: o.maxCacheEntries,
      max_bytes: o.maxCacheBytes,
      ...engineConfig(o.engine ?? "plus", o.targetRecall ?? DEFAULT_TARGET_RECALL, o.ivf ?? {}),
      ivf_from_rows: IVF_FROM_ROWS,
    });
    const cell = new BigUint64Array(1);
    check(lib().ruv_lake_new(config.bytes, cell));
    this.#handle = new NativeHandle(outPointer(cell), lib().ruv_lake_free, "RuLake");
    this.#options = { ...o };
    this.#freshness = new FreshnessProtocol({ handle: () => this.#handle.ptr, source: (scope) => this.#source(scope), timeoutMs: o.backendTimeoutMs });
  }

  /** A builder with the defaults: rerank 20, seed 42, unbounded cache, fresh consistency, the Plus engine. */
  static builder(): RuLakeBuilder {
    return new RuLakeBuilder();
  }

  /** Adds a backend; its `id` must be unique within this lake. */
  registerBackend(adapter: BackendAdapter): void {
    this.#handle.ptr;
    const methods = ["listCollections", "pullVectors", "currentBundle"] as const;
    if (typeof adapter?.id !== "string" || adapter.id.length === 0 || methods.some((m) => typeof adapter[m] !== "function")) {
      throw new InvalidArgument(`a backend needs a non-empty string id and methods ${methods.join(", ")}`);
    }
    if (this.#backends.has(adapter.id)) throw new InvalidArgument(`backend ${adapter.id} is already registered`);
    this.#backends.set(adapter.id, adapter);
  }

  /** Ids of the registered backends. */
  backendIds(): string[] {
    return [...this.#backends.keys()];
  }

  #key(backend: string, collection: string): number {
    if (typeof backend !== "string" || typeof collection !== "string" || !backend || !collection) {
      throw new InvalidArgument(`a collection key is [backend, collection] with two non-empty strings, got [${backend}, ${collection}]`);
    }
    const name = `${backend}\u0000${collection}`;
    let id = this.#keys.get(name);
    if (id === undefined) {
      const cell = new Uint32Array(1);
      const [b, c] = [utf8(backend), utf8(collection)];
      check(lib().ruv_lake_key(this.#handle.ptr, b, b.length, c, c.length, cell));
      id = cell[0]!;
      this.#keys.set(name, id);
    }
    return id;
  }

  #adapter(scope: CollectionScope): BackendAdapter {
    const adapter = this.#backends.get(scope.backend);
    if (!adapter) throw new BackendError(scope.backend, `backend is not registered (registered: ${this.backendIds().join(", ") || "none"})`, { collection: scope.collection });
    return adapter;
  }

  /** The adapter to refresh a collection from; without one the collection cannot be served. */
  #source(scope: CollectionScope): BackendAdapter {
    if (this.#backends.has(scope.backend)) return this.#adapter(scope);
    throw new CacheMissError(`${scope.backend}/${scope.collection} is not cached and backend ${scope.backend} is not registered (registered: ${this.backendIds().join(", ") || "none"})`);
  }

  #ensureFreshSync(backend: string, collection: string, flags = 0): number {
    const key = this.#key(backend, collection);
    this.#freshness.ensureSync(key, backend, collection, flags);
    return key;
  }

  async #ensureFresh(backend: string, collection: string): Promise<number> {
    const key = this.#key(backend, collection);
    await this.#freshness.ensure(key, backend, collection);
    return key;
  }

  #hits(backend: string, collection: string, n: number): LakeHit[] {
    const { ids, scores } = this.#scratch;
    const out = new Array<LakeHit>(n);
    for (let i = 0; i < n; i++) out[i] = { backend, collection, id: Number(ids[i]), score: scores[i]! };
    return out;
  }

  #reserve(n: number): void {
    if (this.#scratch.ids.length >= n) return;
    this.#scratch.ids = new BigUint64Array(n);
    this.#scratch.scores = new Float32Array(n);
    this.#scratch.shards = new Uint32Array(n);
  }

  /**
   * The k nearest vectors in one collection, best first (checks freshness per
   * the consistency mode); `filter` keeps only rows whose backend ids it passes.
   */
  searchOne(target: CollectionKey, query: Float32Array, k: number, options: LakeSearchOptions = {}): LakeHit[] {
    const [backend, collection, filters] = searchOneArgs(target, query, k, options);
    // A warm-up runs this very code, with the same branches (JavaScriptCore's optimised code leaves the branches it never
    // saw running to an expensive bail-out), differing only in the flags it hands the native check: no hit, no backend.
    const key = this.#ensureFreshSync(backend, collection, this.#checkFlags);
    return this.#searchCached(key, backend, collection, query, k, filters);
  }

  #searchCached(key: number, backend: string, collection: string, query: Float32Array, k: number, filters = singleFilter(undefined)): LakeHit[] {
    const cap = Math.min(k, this.#len(key));
    this.#reserve(cap);
    const s = this.#scratch;
    const search = searchStruct(k, filters);
    check(lib().ruv_lake_search_with(this.#handle.ptr, key, query, query.length, search, s.ids, s.scores, cap, s.count));
    void filters.bytes; // the filters' memory stays alive until the call returns
    return this.#hits(backend, collection, Number(s.count[0]));
  }

  /** `searchOne` with async backends and the search itself off the JS thread. */
  async searchOneAsync(target: CollectionKey, query: Float32Array, k: number, options: LakeSearchOptions = {}): Promise<LakeHit[]> {
    checkQuery(query, k);
    const filters = lakeFilters(options, "searchOneAsync");
    const [backend, collection] = checkTarget(target);
    const key = await this.#ensureFresh(backend, collection);
    const sym = lib();
    const handle = this.#handle.ptr;
    const cap = Math.min(k, this.#len(key));
    // The native call copies the filters before it returns.
    const search = searchStruct(k, filters);
    return runJob(
      (job) => sym.ruv_lake_search_with_async(handle, key, query, query.length, search, job),
      (job) => {
        const ids = new BigUint64Array(cap);
        const scores = new Float32Array(cap);
        const len = new BigUint64Array(1);
        check(sym.ruv_job_take_hits(job, ids, scores, cap, len));
        return Array.from({ length: Number(len[0]) }, (_, i) => ({ backend, collection, id: Number(ids[i]), score: scores[i]! }));
      },
    );
  }

  /** Searches several collections (on any backends) and merges the hits by score; `filter` applies to each by its backend's ids. */
  searchFederated(targets: readonly CollectionKey[], query: Float32Array, k: number, options: LakeSearchOptions = {}): LakeHit[] {
    checkQuery(query, k);
    const filters = lakeFilters(options, "searchFederated");
    const keys = Uint32Array.from(checkTargets(targets), ([b, c], shard) => this.#shardSync(shard, () => this.#ensureFreshSync(b, c)));
    const cap = this.#federatedCap(keys, k);
    this.#reserve(cap);
    const s = this.#scratch;
    const search = searchStruct(k, filters);
    check(lib().ruv_lake_search_federated_with(this.#handle.ptr, keys, keys.length, query, query.length, search, s.shards, s.ids, s.scores, cap, s.count));
    void filters.bytes; // the filters' memory stays alive until the call returns
    return Array.from({ length: Number(s.count[0]) }, (_, i) => {
      const [backend, collection] = targets[s.shards[i]!]!;
      return { backend, collection, id: Number(s.ids[i]), score: s.scores[i]! };
    });
  }

  #shardSync(shard: number, f: () => number): number {
    try {
      return f();
    } catch (e) {
      throw shardError(shard, e);
    }
  }

  /** `searchFederated` with async backends; shards are refreshed concurrently and searched off the JS thread. */
  async searchFederatedAsync(targets: readonly CollectionKey[], query: Float32Array, k: number, options: LakeSearchOptions = {}): Promise<LakeHit[]> {
    checkQuery(query, k);
    const filters = lakeFilters(options, "searchFederatedAsync");
    const settled = await Promise.allSettled(checkTargets(targets).map(([b, c]) => this.#ensureFresh(b, c)));
    const failed = settled.findIndex((r) => r.status === "rejected");
    if (failed >= 0) throw shardError(failed, (settled[failed] as PromiseRejectedResult).reason);
    const keys = Uint32Array.from(settled, (r) => (r as PromiseFulfilledResult<number>).value);
    const sym = lib();
    const handle = this.#handle.ptr;
    const cap = this.#federatedCap(keys, k);
    const search = searchStruct(k, filters);
    return runJob(
      (job) => sym.ruv_lake_search_federated_with_async(handle, keys, keys.length, query, query.length, search, job),
      (job) => {
        const shards = new Uint32Array(cap);
        const ids = new BigUint64Array(cap);
        const scores = new Float32Array(cap);
        const len = new BigUint64Array(1);
        check(sym.ruv_job_take_shard_hits(job, shards, ids, scores, cap, len));
        return Array.from({ length: Number(len[0]) }, (_, i) => {
          const [backend, collection] = targets[shards[i]!]!;
          return { backend, collection, id: Number(ids[i]), score: scores[i]! };
        });
      },
    );
  }

  /**
   * m queries (m × dim) against one collection, one freshness check, searched
   * in parallel; `filter` is one for every query or an array of one per query.
   */
  searchBatch(target: CollectionKey, queries: Float32Array, k: number, options: LakeBatchOptions = {}): LakeHit[][] {
    checkQuery(queries, k, true);
    checkOptionKeys(options, ["threads", "filter"], "searchBatch options");
    const [backend, collection] = checkTarget(target);
    const threads = options.threads ?? 0;
    checkCount("threads", threads, 1024);
    const key = this.#ensureFreshSync(backend, collection);
    const dim = this.#dim(key);
    if (queries.length % dim !== 0) throw new InvalidArgument(`queries length ${queries.length} is not a multiple of dim ${dim}`);
    const m = queries.length / dim;
    const filters = idFilters(options.filter, "lake rows", m);
    const perQuery = Math.min(k, this.#len(key));
    const ids = new BigUint64Array(m * perQuery);
    const scores = new Float32Array(m * perQuery);
    const kOut = new BigUint64Array(1);
    const search = searchStruct(k, filters, threads);
    check(lib().ruv_lake_search_batch_with(this.#handle.ptr, key, queries, queries.length, search, ids, scores, ids.length, kOut));
    void filters.bytes; // the filters' memory stays alive until the call returns
    // The native side packs min(k, n) hits per query, so rows have that stride, not k;
    // a filtered query that matches fewer rows ends with empty slots.
    const kk = Number(kOut[0]);
    return Array.from({ length: m }, (_, q) => {
      const row: LakeHit[] = [];
      for (let j = 0; j < kk && ids[q * kk + j] !== NO_HIT; j++) row.push({ backend, collection, id: Number(ids[q * kk + j]), score: scores[q * kk + j]! });
      return row;
    });
  }

  /** Vectors in a key's cached collection: result buffers hold min(k, this), never k itself. */
  #len(key: number): number {
    const out = new BigUint64Array(1);
    check(lib().ruv_lake_len(this.#handle.ptr, key, out));
    return Number(out[0]);
  }

  /** Most hits a federated search over `keys` can return. */
  #federatedCap(keys: Uint32Array, k: number): number {
    let total = 0;
    for (const key of keys) total += this.#len(key);
    return Math.min(k, total);
  }

  #dim(key: number): number {
    const out = new Uint32Array(1);
    check(lib().ruv_lake_dim(this.#handle.ptr, key, out));
    return out[0]!;
  }

  #witness(key: number): string | undefined {
    const sym = lib();
    const handle = this.#handle.ptr;
    const w = readString((buf, cap, len) => sym.ruv_lake_witness_of(handle, key, buf, cap, len));
    return w.length ? w : undefined;
  }

  /** Asks the backend for the collection's state and pulls and builds its index if the cache is stale. */
  async primeAsync(key: CollectionKey): Promise<void> {
    const [backend, collection] = checkTarget(key);
    const id = this.#key(backend, collection);
    await this.#freshness.refresh(id, collectionScope(backend, collection));
  }

  /** Queues writes and primes to apply together: `await using s = lake.session(); s.upsert(…); s.prime(…)`. */
  session(): LakeSession {
    this.#handle.ptr;
    return new LakeSession({ backend: (id) => this.#backends.get(id), prime: (key) => this.primeAsync(key) });
  }

  /** Writes `dir/table.rulake.json` for the collection's current state; returns its witness. */
  async publishBundleAsync(key: CollectionKey, dir: string): Promise<string> {
    const [backend, collection] = checkTarget(key);
    const scope = collectionScope(backend, collection);
    const adapter = this.#adapter(scope);
    const info = await ask(scope, "currentBundle", () => adapter.currentBundle(collection), this.#options.backendTimeoutMs);
    const state = collectionState(scope, info);
    const path = utf8(checkDir(dir));
    const sym = lib();
    const handle = this.#handle.ptr;
    return readString((buf, cap, len) => {
      check(sym.ruv_lake_publish(handle, path, path.length, state.bytes, buf, cap, len));
      return 0;
    });
  }

  /** Compares a published sidecar with the cache; drops the cached copy when they differ. */
  refreshFromBundleDir(key: CollectionKey, dir: string): RefreshResult {
    const id = this.#key(...checkTarget(key));
    const path = utf8(checkDir(dir));
    const out = new Uint32Array(1);
    check(lib().ruv_lake_refresh_from_dir(this.#handle.ptr, id, path, path.length, out));
    return REFRESH_RESULTS[out[0]!]!;
  }

  /** Saves the cached collection (`index.rbpx` with its original ids, plus its sidecar) for a warm restart. */
  async saveCacheToDirAsync(key: CollectionKey, dir: string): Promise<void> {
    const id = this.#key(...checkTarget(key));
    const path = utf8(checkDir(dir));
    const sym = lib();
    const handle = this.#handle.ptr;
    await runJob((job) => sym.ruv_lake_save_to_dir_async(handle, id, path, path.length, job), () => undefined, undefined, "lake");
  }

  /**
   * Installs a collection saved by {@link saveCacheToDirAsync}, verifying its witness; needs no backend. Returns its size.
   * It ends by reading the whole index once (an IVF cache is mapped: this pages it in), then by throwaway
   * `searchOne` calls from the index's own rows (counted nowhere), so the first real search runs near steady-state
   * speed; `warmUp: false` skips them.
   */
  async warmFromDirAsync(key: CollectionKey, dir: string, options: WarmOptions = {}): Promise<number> {
    checkOptionKeys(options, ["warmUp"], "warmFromDirAsync options");
    const warmUp = options.warmUp ?? true;
    if (typeof warmUp !== "boolean") throw new InvalidArgument(`warmFromDirAsync option warmUp must be a boolean, got ${describeValue(warmUp)}`);
    const [backend, collection] = checkTarget(key);
    const id = this.#key(backend, collection);
    const path = utf8(checkDir(dir));
    const sym = lib();
    const handle = this.#handle.ptr;
    const installed = await runJob(
      (job) => sym.ruv_lake_warm_from_dir_async(handle, id, path, path.length, job),
      (job) => {
        const n = new BigUint64Array(1);
        check(sym.ruv_job_take_count(job, n));
        return Number(n[0]);
      },
      undefined,
      "lake",
    );
    const published = await publishedState(dir);
    if (published) this.#freshness.remember(id, published);
    if (installed > 0 && warmUp) this.#warmUp(key, id);
    return installed;
  }

  /**
   * Ends a warm start with throwaway `searchOne` calls (counted nowhere, never asking a backend) from rows of the
   * index itself. They train the searching core's caches and branch history where queries land: after searches
   * from one repeated vector a first real query still ran ≈ 1.3× its steady time. And they take `searchOne`'s own
   * code through JavaScriptCore's compilations, so that none lands on the first real search. 16 calls always, 400
   * when those fit the budget: the path's cold cost (≈ 30 µs after 16 calls, a few hundred µs when a compilation
   * lands) matters next to a fast search.
   */
  #warmUp(key: CollectionKey, id: number): void {
    const dim = this.#dim(id);
    const rows = new Float32Array(Math.max(1, Math.min(JIT_WARM_UP_CALLS, Math.floor(WARM_UP_ROWS_MAX_FLOATS / dim))) * dim);
    const len = new BigUint64Array(1);
    check(lib().ruv_lake_sample_rows(this.#handle.ptr, id, rows, rows.length, len));
    const held = Math.max(1, Number(len[0]) / dim); // none from the codes-only engine: one zero query then
    const query = (i: number) => rows.subarray((i % held) * dim, ((i % held) + 1) * dim);
    this.#checkFlags = LakeCheckFlag.Uncounted;
    try {
      let start = 0;
      for (let i = 0; i < WARM_UP_CALLS; i++) {
        if (i === WARM_UP_CALLS / 2) start = Bun.nanoseconds(); // the first calls run cold: time the rest
        this.searchOne(key, query(i), WARM_UP_K);
      }
      const perCall = (Bun.nanoseconds() - start) / (WARM_UP_CALLS / 2);
      if (perCall * JIT_WARM_UP_CALLS <= JIT_WARM_UP_BUDGET_NS) {
        for (let i = WARM_UP_CALLS; i < JIT_WARM_UP_CALLS; i++) this.searchOne(key, query(i), WARM_UP_K);
      }
    } finally {
      this.#checkFlags = 0;
    }
  }

  #stats(scope: number, key: number): CacheStats {
    const out = new NativeStruct(CacheStatsStruct);
    check(lib().ruv_lake_stats(this.#handle.ptr, scope, key, out.bytes));
    return toCacheStats(out);
  }

  /** Lake-wide cache counters. */
  cacheStats(): CacheStats {
    return this.#stats(StatsScope.Global, 0);
  }

  /** Counters per backend that has been searched. */
  cacheStatsByBackend(): Record<string, CacheStats> {
    const out: Record<string, CacheStats> = {};
    for (const [name, key] of this.#keys) {
      const backend = name.slice(0, name.indexOf("\u0000"));
      out[backend] ??= this.#stats(StatsScope.Backend, key);
    }
    return out;
  }

  /** Counters per collection that has been searched, keyed `backend/collection`. */
  cacheStatsByCollection(): Record<string, CacheStats> {
    const out: Record<string, CacheStats> = {};
    for (const [name, key] of this.#keys) out[name.replace("\u0000", "/")] = this.#stats(StatsScope.Collection, key);
    return out;
  }

  /** The engine of a collection's cached index (`"plus"` or `"ivf"`; under `auto`, what its size chose), or undefined when nothing is cached. */
  engineOf(key: CollectionKey): "plus" | "ivf" | undefined {
    const id = this.#key(...checkTarget(key));
    if (!this.isPrimed(key)) return undefined;
    const out = new Uint32Array(1);
    check(lib().ruv_lake_engine_of(this.#handle.ptr, id, out));
    return out[0] === LakeEngineCode.Ivf ? "ivf" : "plus";
  }

  /** Witness of the cached state of a collection, or undefined when nothing is cached. */
  cacheWitnessOf(key: CollectionKey): string | undefined {
    return this.#witness(this.#key(...checkTarget(key)));
  }

  /** Did a prime or warm start leave this collection searchable from the cache? */
  isPrimed(key: CollectionKey): boolean {
    const out = new Int32Array(1);
    check(lib().ruv_lake_is_primed(this.#handle.ptr, this.#key(...checkTarget(key)), out));
    return out[0] === 1;
  }

  /** Drops the cached copy; the next search primes again. */
  invalidateCache(key: CollectionKey): void {
    check(lib().ruv_lake_invalidate(this.#handle.ptr, this.#key(...checkTarget(key))));
  }

  /** Frees the native cache; in-flight async searches finish first. */
  close(): void {
    this.#handle.close();
  }

  [Symbol.dispose](): void {
    this.#handle.dispose();
    this.close();
  }
}

/**
 * The state a saved cache's sidecar declares (already verified natively), so
 * that later deletes can arrive as changes; undefined when it cannot be read
 * exactly (a number generation beyond 2^53 would lose digits in JSON.parse).
 */
async function publishedState(dir: string): Promise<BundleInfo | undefined> {
  const file = Bun.file(join(dir, SIDECAR));
  if (file.size > SIDECAR_MAX_BYTES) return undefined;
  try {
    const { data_ref: dataRef, dim, generation } = JSON.parse(await file.text());
    const exact = typeof generation === "string" || Number.isSafeInteger(generation);
    return typeof dataRef === "string" && Number.isInteger(dim) && exact ? { dataRef, dim, generation } : undefined;
  } catch {
    return undefined; // replaced or removed since the warm start verified it: changes then pull in full
  }
}

function checkQuery(query: unknown, k: number, batch = false): asserts query is Float32Array {
  if (!(query instanceof Float32Array)) throw new InvalidArgument(`${batch ? "queries" : "query"} must be a Float32Array`);
  checkCount("k", k, 0x7fff_ffff, 1);
}

/** The k of the searches that end a warm start: what a typical first query asks for. */
const WARM_UP_K = 10;
/** `searchOne` calls every warm start makes: each function on the path has run, none is compiled yet. */
const WARM_UP_CALLS = 16;
/**
 * Calls that take the path past JavaScriptCore's baseline and optimising compilations. Measured on a 60 µs search:
 * after 32, 100 or (now and then) 200 calls a compilation landed on the first real search (2-6× its steady time).
 */
const JIT_WARM_UP_CALLS = 400;
/**
 * The most a warm start spends on those calls: 100 ms, so 400 searches of up to 250 µs. Slower searches make only
 * the 16, whose cold path is then a small part of the first search. RabitqPlusIndex's own search needs about 200
 * calls to reach its steady speed (20k rows: 200 µs a search, falling to 155 µs), IVF's needs none.
 */
const JIT_WARM_UP_BUDGET_NS = 100e6;
/** The sample rows a warm start asks for fill at most 1 MiB (the calls cycle through them). */
const WARM_UP_ROWS_MAX_FLOATS = 1 << 18;

/** `searchOne`'s arguments checked: its backend, collection and native filters. */
function searchOneArgs(target: CollectionKey, query: Float32Array, k: number, options: LakeSearchOptions): [string, string, NativeFilters] {
  checkQuery(query, k);
  const filters = lakeFilters(options, "searchOne");
  return [...checkTarget(target), filters];
}

function checkTarget(key: CollectionKey): [string, string] {
  if (!Array.isArray(key) || key.length !== 2 || typeof key[0] !== "string" || typeof key[1] !== "string" || !key[0] || !key[1]) {
    throw new InvalidArgument(`a collection key is [backend, collection] with two non-empty strings, got ${JSON.stringify(key)}`);
  }
  return [key[0], key[1]];
}

function checkTargets(targets: readonly CollectionKey[]): Array<[string, string]> {
  if (!Array.isArray(targets) || targets.length === 0) throw new InvalidArgument("targets must be a non-empty array of [backend, collection]");
  return targets.map((t, i) => {
    if (!Array.isArray(t) || t.length !== 2 || typeof t[0] !== "string" || typeof t[1] !== "string" || !t[0] || !t[1]) {
      throw new InvalidArgument(`target ${i} must be [backend, collection] with two non-empty strings`);
    }
    return [t[0], t[1]];
  });
}

function checkDir(dir: unknown): string {
  if (typeof dir !== "string" || dir.length === 0 || dir.includes("\0")) throw new InvalidArgument(`dir must be a non-empty path, got ${JSON.stringify(dir)}`);
  return dir;
}

function shardError(shard: number, e: unknown): Error {
  if (e instanceof BackendError) return new BackendError(e.backend, `shard ${shard}: ${e.message}`, { collection: e.collection, cause: e });
  return e as Error;
}

/** Options of a lake search of one query. */
export interface LakeSearchOptions {
  /** Only rows whose backend ids this filter passes (see {@link IdFilter}); a filter that passes none gives `[]`. */
  filter?: IdFilter;
}

/** Options of {@link RuLake.warmFromDirAsync}. */
export interface WarmOptions {
  /**
   * End with throwaway searches from the index's own rows, so that the first real search runs near steady-state
   * speed (default true): 16 of them, or 400 when they fit 100 ms. `false` suits a process that searches a few
   * times and exits.
   */
  warmUp?: boolean;
}

/** Options of {@link RuLake.searchBatch}. */
export interface LakeBatchOptions {
  /** Worker threads (0 = all cores, 1 = the calling thread). */
  threads?: number;
  /** One filter for every query, or an array of one per query. */
  filter?: IdFilter | readonly IdFilter[];
}

const NO_HIT = (1n << 64n) - 1n;

/** The native filters of a one-query lake search's options, checked. */
function lakeFilters(options: LakeSearchOptions, what: string): NativeFilters {
  checkOptionKeys(options, ["filter"], `${what} options`);
  return idFilters(options.filter, "lake rows");
}

/** A lake search's `RuvSearchOptions` bytes: the lake sets each collection's depth, so only k, threads and filters. */
function searchStruct(k: number, filters: NativeFilters, threads = 0): Uint8Array {
  return withFilters(new NativeStruct(SearchOptionsStruct, { k, threads }), filters).bytes;
}
