import { describe, expect, test } from "bun:test";
import { readFileSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { shake256 } from "@noble/hashes/sha3.js";
import {
  BackendError,
  CacheMissError,
  Consistency,
  InvalidArgument,
  DimensionMismatch,
  LakeError,
  LakeIoError,
  PersistError,
  LocalBackend,
  RabitqPlusIndex,
  RefreshResult,
  RuLake,
  WitnessMismatch,
  type BackendAdapter,
  type BundleInfo,
  type PulledBatch,
} from "../../src/index.ts";
import { randomVectors, row, runBun, tempDir } from "../support/helpers.ts";

const dim = 32;

function local(id: string, collection: string, n: number, seed: number, firstId = 0): { backend: LocalBackend; vectors: Float32Array; ids: number[] } {
  const vectors = randomVectors(n, dim, seed);
  const ids = Array.from({ length: n }, (_, i) => firstId + i * 3);
  const backend = new LocalBackend(id);
  backend.putCollection(collection, { ids, vectors });
  return { backend, vectors, ids };
}

/** An adapter written in TypeScript that counts the lake's calls. */
class CountingAdapter implements BackendAdapter {
  calls = { bundle: 0, pull: 0 };
  generation = 1;
  constructor(
    readonly id: string,
    private readonly vectors: Float32Array,
    private readonly async = false,
  ) {}
  listCollections(): string[] {
    return ["c"];
  }
  currentBundle(): BundleInfo | Promise<BundleInfo> {
    this.calls.bundle++;
    const info = { dataRef: `count://${this.id}/c`, dim, generation: this.generation };
    return this.async ? Promise.resolve(info) : info;
  }
  pullVectors(): PulledBatch | Promise<PulledBatch> {
    this.calls.pull++;
    const batch = { ids: Array.from({ length: this.vectors.length / dim }, (_, i) => i), vectors: this.vectors, dim, generation: this.generation };
    return this.async ? Promise.resolve(batch) : batch;
  }
}

test("searchOne on a LocalBackend (50k × 128) equals a direct RabitqPlusIndex search", async () => {
  const d = 128;
  const vectors = randomVectors(50_000, d, 1);
  const ids = Array.from({ length: 50_000 }, (_, i) => 2 ** 40 + i);
  const backend = new LocalBackend("hot-shard");
  backend.putCollection("docs", { ids, vectors });
  using lake = RuLake.builder().rerankFactor(20).rotationSeed(42).build();
  lake.registerBackend(backend);
  using direct = RabitqPlusIndex.build(vectors, { dim: d, seed: 42, rerankFactor: 20, ids });
  const queries = randomVectors(20, d, 2);
  for (let i = 0; i < 20; i++) {
    const q = row(queries, d, i);
    const viaLake = lake.searchOne(["hot-shard", "docs"], q, 10);
    expect(viaLake.map((h) => [h.id, h.score])).toEqual(direct.search(q, 10).map((h) => [h.id, h.score]));
    expect(viaLake[0]!.backend).toBe("hot-shard");
  }
  expect((await lake.searchOneAsync(["hot-shard", "docs"], row(queries, d, 0), 5)).map((h) => h.id)).toEqual(direct.search(row(queries, d, 0), 5).map((h) => h.id));
  expect(lake.cacheStats()).toMatchObject({ primes: 1, misses: 1, hits: 20, entries: 1 });
});

describe("consistency", () => {
  const vectors = randomVectors(200, dim, 3);
  test("fresh asks the backend on every search and re-primes only when it changed", () => {
    const a = new CountingAdapter("a", vectors);
    using lake = RuLake.builder().consistency(Consistency.fresh()).build();
    lake.registerBackend(a);
    for (let i = 0; i < 5; i++) lake.searchOne(["a", "c"], row(vectors, dim, i), 3);
    expect(a.calls).toEqual({ bundle: 5, pull: 1 });
    a.generation++;
    lake.searchOne(["a", "c"], row(vectors, dim, 0), 3);
    expect(a.calls).toEqual({ bundle: 6, pull: 2 });
    expect(lake.cacheStats()).toMatchObject({ primes: 2, invalidations: 1, misses: 2, hits: 4 });
  });

  test("eventual asks at most once per ttl; frozen only when nothing is cached", async () => {
    const e = new CountingAdapter("e", vectors);
    using eventual = RuLake.builder().consistency(Consistency.eventual({ ttlMs: 60_000 })).build();
    eventual.registerBackend(e);
    for (let i = 0; i < 5; i++) eventual.searchOne(["e", "c"], row(vectors, dim, i), 3);
    expect(e.calls).toEqual({ bundle: 1, pull: 1 });
    const f = new CountingAdapter("f", vectors);
    using frozen = RuLake.builder().consistency(Consistency.frozen()).build();
    frozen.registerBackend(f);
    for (let i = 0; i < 5; i++) frozen.searchOne(["f", "c"], row(vectors, dim, i), 3);
    f.generation++;
    frozen.searchOne(["f", "c"], row(vectors, dim, 0), 3);
    expect(f.calls).toEqual({ bundle: 1, pull: 1 });
    frozen.invalidateCache(["f", "c"]);
    frozen.searchOne(["f", "c"], row(vectors, dim, 0), 3);
    expect(f.calls).toEqual({ bundle: 2, pull: 2 });
    const short = new CountingAdapter("s", vectors);
    using brief = RuLake.builder().consistency(Consistency.eventual({ ttlMs: 1 })).build();
    brief.registerBackend(short);
    brief.searchOne(["s", "c"], row(vectors, dim, 0), 3);
    await Bun.sleep(5);
    brief.searchOne(["s", "c"], row(vectors, dim, 0), 3);
    expect(short.calls.bundle).toBe(2);
    expect(() => Consistency.eventual({ ttlMs: -1 })).toThrow(InvalidArgument);
  });
});

describe("TypeScript adapters", () => {
  const vectors = randomVectors(300, dim, 4);
  test("an async adapter works through the async API; concurrent searches share one pull", async () => {
    const a = new CountingAdapter("pg-like", vectors, true);
    using lake = RuLake.builder().build();
    lake.registerBackend(a);
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => lake.searchOneAsync(["pg-like", "c"], row(vectors, dim, i), 1)));
    expect(results.map((r) => r[0]!.id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(a.calls.pull).toBe(1);
    expect(() => lake.searchOne(["pg-like", "c"], row(vectors, dim, 0), 1)).toThrow("answered asynchronously; use the lake's async methods");
  });

  test("backends that throw, time out or return malformed data raise BackendError naming the backend", async () => {
    const broken = (id: string, patch: Partial<BackendAdapter>): BackendAdapter => Object.assign(new CountingAdapter(id, vectors), patch);
    using lake = RuLake.builder().backendTimeoutMs(50).build();
    lake.registerBackend(broken("throws", { currentBundle: () => { throw new Error("connection refused"); } }));
    lake.registerBackend(broken("slow", { currentBundle: () => new Promise<BundleInfo>(() => undefined) }));
    lake.registerBackend(broken("wrong-dim", { pullVectors: () => ({ ids: [0], vectors: new Float32Array(dim + 1), dim: dim + 1, generation: 1 }) }));
    const nan = vectors.slice(0, 2 * dim);
    nan[dim + 3] = Number.NaN;
    lake.registerBackend(broken("nan", { pullVectors: () => ({ ids: [0, 1], vectors: nan, dim, generation: 1 }) }));
    lake.registerBackend(broken("lengths", { pullVectors: () => ({ ids: [0, 1, 2], vectors: vectors.slice(0, 2 * dim), dim, generation: 1 }) }));
    lake.registerBackend(broken("dup", { pullVectors: () => ({ ids: [5, 5], vectors: vectors.slice(0, 2 * dim), dim, generation: 1 }) }));
    lake.registerBackend(broken("bad-gen", { currentBundle: () => ({ dataRef: "x", dim, generation: -4 }) }));
    const q = row(vectors, dim, 0);
    const cases: Array<[string, string]> = [
      ["throws", "currentBundle failed: connection refused"],
      ["slow", "currentBundle timed out after 50 ms"],
      ["wrong-dim", `pulled vectors have dim ${dim + 1}, but the backend announced ${dim}`],
      ["nan", "vector 1 (id 1) component 3 is NaN"],
      ["lengths", "pulled 3 ids but 64 values"],
      ["dup", "duplicate"],
      ["bad-gen", "generation must be an integer in 0..2^64-1 or a string, got -4"],
    ];
    for (const [id, message] of cases) {
      const err = await lake.searchOneAsync([id, "c"], q, 1).catch((e) => e);
      expect(err).toBeInstanceOf(BackendError);
      expect(err.backend).toBe(id);
      expect(err.message).toContain(message);
      expect(lake.isPrimed([id, "c"])).toBe(false);
    }
    expect(() => lake.searchOne(["nope", "c"], q, 1)).toThrow(CacheMissError);
    await expect(lake.publishBundleAsync(["nope", "c"], tempDir())).rejects.toThrow('backend "nope", collection "c": backend is not registered');
  });

  test("a federated call names the failing shard and keeps the other shards' cache", async () => {
    const good = new CountingAdapter("good", vectors);
    const bad = Object.assign(new CountingAdapter("bad", vectors), { currentBundle: () => Promise.reject(new Error("disk on fire")) });
    using lake = RuLake.builder().build();
    lake.registerBackend(good);
    lake.registerBackend(bad);
    const err = await lake.searchFederatedAsync([["good", "c"], ["bad", "c"]], row(vectors, dim, 0), 5).catch((e) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect(err.message).toContain("shard 1");
    expect(err.message).toContain("disk on fire");
    expect(lake.isPrimed(["good", "c"])).toBe(true);
    expect(lake.searchOne(["good", "c"], row(vectors, dim, 0), 1)[0]!.id).toBe(0);
  });

  test("registration and arguments are validated", () => {
    using lake = RuLake.builder().build();
    const a = new CountingAdapter("a", vectors);
    lake.registerBackend(a);
    expect(() => lake.registerBackend(a)).toThrow("backend a is already registered");
    expect(() => lake.registerBackend({ id: "" } as BackendAdapter)).toThrow(InvalidArgument);
    expect(() => lake.searchOne(["a", "c"], [1, 2] as unknown as Float32Array, 1)).toThrow("query must be a Float32Array");
    expect(() => lake.searchOne(["a", "c"], row(vectors, dim, 0), 0)).toThrow("k must be an integer in 1..");
    expect(() => lake.searchOne(["a", "c"], new Float32Array(dim - 1), 1)).toThrow(`expected ${dim}, got ${dim - 1}`);
    expect(() => lake.searchFederated([], row(vectors, dim, 0), 1)).toThrow("targets must be a non-empty array");
    expect(() => RuLake.builder().rerankFactor(0).build()).toThrow("rerankFactor must be an integer in 1..1024, got 0");
    expect(lake.backendIds()).toEqual(["a"]);
    lake.close();
    expect(() => lake.searchOne(["a", "c"], row(vectors, dim, 0), 1)).toThrow("RuLake is closed");
  });
});

test("federated search over several backends merges by score; searchBatch answers many queries", () => {
  const shards = [0, 1, 2].map((s) => local(`shard${s}`, "docs", 2000, 10 + s, s * 1_000_000));
  using lake = RuLake.builder().build();
  shards.forEach((s) => lake.registerBackend(s.backend));
  const targets = shards.map((_, s) => [`shard${s}`, "docs"] as const);
  const q = row(shards[1]!.vectors, dim, 17);
  const hits = lake.searchFederated(targets, q, 10);
  expect(hits[0]).toMatchObject({ backend: "shard1", collection: "docs", id: 1_000_000 + 17 * 3, score: 0 });
  expect(hits.map((h) => h.score)).toEqual([...hits.map((h) => h.score)].sort((a, b) => a - b));
  const batch = lake.searchBatch(["shard2", "docs"], shards[2]!.vectors.subarray(0, 4 * dim), 3);
  expect(batch.map((hs) => hs[0]!.id)).toEqual([2_000_000, 2_000_003, 2_000_006, 2_000_009]);
  expect(Object.keys(lake.cacheStatsByBackend()).sort()).toEqual(["shard0", "shard1", "shard2"]);
  expect(lake.cacheStatsByCollection()["shard1/docs"]!.primes).toBe(1);
});

test("searchBatch with k larger than the collection returns every vector once per query, as searchOne does", () => {
  const { backend, vectors } = local("small", "docs", 5, 77, 100);
  using lake = RuLake.builder().build();
  lake.registerBackend(backend);
  const queries = vectors.subarray(0, 3 * dim);
  const batch = lake.searchBatch(["small", "docs"], queries, 8);
  expect(batch.map((hits) => hits.length)).toEqual([5, 5, 5]);
  for (let q = 0; q < 3; q++) {
    expect(batch[q]).toEqual(lake.searchOne(["small", "docs"], row(vectors, dim, q), 8));
    expect(new Set(batch[q]!.map((h) => h.id))).toEqual(new Set([100, 103, 106, 109, 112]));
  }
});

test("a native dimension mismatch carries both numbers; lake I/O failures are LakeIoError, not PersistError", async () => {
  const { backend, vectors } = local("hot", "docs", 50, 78);
  using lake = RuLake.builder().build();
  lake.registerBackend(backend);
  const err = (() => {
    try {
      lake.searchOne(["hot", "docs"], new Float32Array(dim - 1), 1);
    } catch (e) {
      return e as DimensionMismatch;
    }
  })();
  expect(err).toBeInstanceOf(DimensionMismatch);
  expect([err!.expected, err!.actual]).toEqual([dim, dim - 1]);
  lake.searchOne(["hot", "docs"], row(vectors, dim, 0), 1);
  const file = join(tempDir(), "not-a-dir");
  writeFileSync(file, "x");
  const io = await lake.saveCacheToDirAsync(["hot", "docs"], join(file, "cache")).catch((e) => e);
  expect(io).toBeInstanceOf(LakeIoError);
  expect(io).toBeInstanceOf(LakeError);
  expect(io).not.toBeInstanceOf(PersistError);
  expect(io.code).toBe("LAKE_IO");
});

test("the cache bound holds while many collections are queried; evictions are counted", () => {
  const backend = new LocalBackend("many");
  for (let c = 0; c < 12; c++) backend.putCollection(`c${c}`, { ids: Array.from({ length: 1000 }, (_, i) => i), vectors: randomVectors(1000, dim, 100 + c) });
  using probe = RuLake.builder().build();
  probe.registerBackend(backend);
  probe.searchOne(["many", "c0"], new Float32Array(dim).fill(0.1), 1);
  const one = probe.cacheStats().bytes;
  const bound = Math.floor(one * 3.5);
  using lake = RuLake.builder().maxCacheBytes(bound).build();
  lake.registerBackend(backend);
  for (let round = 0; round < 3; round++) {
    for (let c = 0; c < 12; c++) {
      expect(lake.searchOne(["many", `c${c}`], new Float32Array(dim).fill(0.1), 1)).toHaveLength(1);
      expect(lake.cacheStats().bytes).toBeLessThanOrEqual(bound);
    }
  }
  const stats = lake.cacheStats();
  expect(stats.entries).toBe(3);
  expect(stats.evictions).toBe(36 - 3);
  using counted = RuLake.builder().maxCacheEntries(2).build();
  counted.registerBackend(backend);
  for (let c = 0; c < 5; c++) counted.searchOne(["many", `c${c}`], new Float32Array(dim).fill(0.1), 1);
  expect(counted.cacheStats()).toMatchObject({ entries: 2, evictions: 3 });
});

describe("bundles", () => {
  test("publish → change → republish → refresh: invalidated; unchanged: up-to-date; missing: bundle-missing", async () => {
    const dir = tempDir();
    const { backend, vectors } = local("hot", "docs", 500, 20);
    using lake = RuLake.builder().build();
    lake.registerBackend(backend);
    expect(lake.refreshFromBundleDir(["hot", "docs"], dir)).toBe(RefreshResult.BundleMissing);
    lake.searchOne(["hot", "docs"], row(vectors, dim, 0), 1);
    const witness = await lake.publishBundleAsync(["hot", "docs"], dir);
    expect(witness).toBe(lake.cacheWitnessOf(["hot", "docs"])!);
    expect(lake.refreshFromBundleDir(["hot", "docs"], dir)).toBe(RefreshResult.UpToDate);
    backend.append("docs", 99_999, row(vectors, dim, 1));
    const next = await lake.publishBundleAsync(["hot", "docs"], dir);
    expect(next).not.toBe(witness);
    expect(lake.refreshFromBundleDir(["hot", "docs"], dir)).toBe(RefreshResult.Invalidated);
    expect(lake.isPrimed(["hot", "docs"])).toBe(false);
    expect(lake.cacheWitnessOf(["hot", "docs"])).toBeUndefined();
  });

  test("a bundle is byte-identical to upstream's rules and its witness recomputes from its fields", async () => {
    const dir = tempDir();
    const backend = new LocalBackend("hot-shard");
    using lake = RuLake.builder().rerankFactor(20).rotationSeed(42).build();
    lake.registerBackend(backend);
    const adapter: BackendAdapter = {
      id: "vector",
      listCollections: () => ["docs"],
      pullVectors: () => ({ ids: [], vectors: new Float32Array(0), dim: 128, generation: 7 }),
      currentBundle: () => ({ dataRef: "local://hot-shard/docs", dim: 128, generation: 7 }),
    };
    lake.registerBackend(adapter);
    const witness = await lake.publishBundleAsync(["vector", "docs"], dir);
    // Test vector computed independently with Python's hashlib.shake_256 from upstream's byte layout.
    expect(witness).toBe("f736b2ffd629d52d086210743b9813e38384854a62a05288303273a3bed6fb16");
    expect(readFileSync(join(dir, "table.rulake.json"), "utf8")).toBe(
      `{\n  "format_version": 2,\n  "data_ref": "local://hot-shard/docs",\n  "dim": 128,\n  "rotation_seed": 42,\n  "rerank_factor": 20,\n  "generation": 7,\n  "rvf_witness": "${witness}",\n  "pii_policy": null,\n  "lineage_id": null\n}`,
    );
    expect(recomputeWitness("local://hot-shard/docs", 128n, 42n, 20n, 7n)).toBe(witness);
  });

  test("a tampered sidecar raises WitnessMismatch; a sidecar that escapes its directory is rejected", async () => {
    const dir = tempDir();
    const { backend, vectors } = local("hot", "docs", 100, 21);
    using lake = RuLake.builder().build();
    lake.registerBackend(backend);
    lake.searchOne(["hot", "docs"], row(vectors, dim, 0), 1);
    await lake.publishBundleAsync(["hot", "docs"], dir);
    const sidecar = join(dir, "table.rulake.json");
    writeFileSync(sidecar, readFileSync(sidecar, "utf8").replace('"dim": 32', '"dim": 33'));
    expect(() => lake.refreshFromBundleDir(["hot", "docs"], dir)).toThrow(WitnessMismatch);
    expect(() => lake.refreshFromBundleDir(["hot", "docs"], dir)).toThrow("witness mismatch");
    writeFileSync(sidecar, "{ not json");
    expect(() => lake.refreshFromBundleDir(["hot", "docs"], dir)).toThrow(LakeError);
    unlinkSync(sidecar);
    symlinkSync("/etc/hostname", sidecar);
    expect(() => lake.refreshFromBundleDir(["hot", "docs"], dir)).toThrow("must not escape its directory");
    await expect(lake.warmFromDirAsync(["hot", "docs"], dir)).rejects.toThrow("must not escape its directory");
  });
});

test("a warm restart in a fresh process returns the original ids and the same results, with no backend", async () => {
  const dir = tempDir();
  const n = 3000;
  const vectors = randomVectors(n, dim, 30);
  const ids = Array.from({ length: n }, (_, i) => 9_007_199_254_000_000 + i * 17);
  const backend = new LocalBackend("prod-warehouse");
  backend.putCollection("memories", { ids, vectors });
  using lake = RuLake.builder().build();
  lake.registerBackend(backend);
  const queries = randomVectors(5, dim, 31);
  const before = Array.from({ length: 5 }, (_, i) => lake.searchOne(["prod-warehouse", "memories"], row(queries, dim, i), 10));
  await lake.saveCacheToDirAsync(["prod-warehouse", "memories"], dir);
  const child = await runBun(`
    import { RuLake, Consistency } from "@ruvector/bun";
    const lake = RuLake.builder().consistency(Consistency.frozen()).build();
    const n = await lake.warmFromDirAsync(["prod-warehouse", "memories"], ${JSON.stringify(dir)});
    const q = new Float32Array(${JSON.stringify(Array.from(queries))});
    const out = [];
    for (let i = 0; i < 5; i++) out.push(lake.searchOne(["prod-warehouse", "memories"], q.subarray(i * ${dim}, (i + 1) * ${dim}), 10));
    console.log(JSON.stringify({ n, primed: lake.isPrimed(["prod-warehouse", "memories"]), stats: lake.cacheStats(), out }));
  `);
  expect(child.stderr).toBe("");
  const got = JSON.parse(child.stdout) as { n: number; primed: boolean; stats: { warmInstalls: number; primes: number; hits: number; misses: number }; out: unknown };
  expect(got.n).toBe(n);
  expect(got.primed).toBe(true);
  // warmFromDir's own warm-up search is counted nowhere: the 5 searches are the only hits.
  expect(got.stats).toMatchObject({ warmInstalls: 1, primes: 0, hits: 5, misses: 0 });
  expect(got.out).toEqual(before);
  expect((got.out as Array<Array<{ id: number }>>)[0]![0]!.id).toBeGreaterThan(9_007_199_254_000_000);
});

test("a warm start's throwaway searches never ask a registered backend, even under fresh consistency", async () => {
  const dir = tempDir();
  const vectors = randomVectors(500, dim, 32);
  const source = new CountingAdapter("count", vectors);
  using saver = RuLake.builder().build();
  saver.registerBackend(source);
  const q = row(vectors, dim, 3);
  const expected = saver.searchOne(["count", "c"], q, 5);
  await saver.saveCacheToDirAsync(["count", "c"], dir);
  const watched = new CountingAdapter("count", vectors);
  using lake = RuLake.builder().consistency(Consistency.fresh()).build();
  lake.registerBackend(watched);
  await lake.warmFromDirAsync(["count", "c"], dir);
  expect(watched.calls).toEqual({ bundle: 0, pull: 0 });
  expect(lake.cacheStats()).toMatchObject({ hits: 0, misses: 0 });
  // The first real search is fresh: it asks the backend once and, the bundle unchanged, pulls nothing.
  expect(lake.searchOne(["count", "c"], q, 5)).toEqual(expected);
  expect(watched.calls).toEqual({ bundle: 1, pull: 0 });
});

test("warmFromDirAsync takes { warmUp }: false skips the throwaway searches; bad options are InvalidArguments naming them", async () => {
  const dir = tempDir();
  const vectors = randomVectors(300, dim, 33);
  using saver = RuLake.builder().build();
  saver.registerBackend(new CountingAdapter("count", vectors));
  const q = row(vectors, dim, 7);
  const expected = saver.searchOne(["count", "c"], q, 3);
  await saver.saveCacheToDirAsync(["count", "c"], dir);
  using lake = RuLake.builder().consistency(Consistency.frozen()).build();
  await expect(lake.warmFromDirAsync(["count", "c"], dir, { warmUp: 1 } as never)).rejects.toThrow("warmUp must be a boolean, got 1");
  await expect(lake.warmFromDirAsync(["count", "c"], dir, { warmup: false } as never)).rejects.toThrow(InvalidArgument);
  await expect(lake.warmFromDirAsync(["count", "c"], dir, { warmup: false } as never)).rejects.toThrow("warmup");
  expect(lake.isPrimed(["count", "c"])).toBe(false);
  expect(await lake.warmFromDirAsync(["count", "c"], dir, { warmUp: false })).toBe(300);
  expect(lake.searchOne(["count", "c"], q, 3)).toEqual(expected);
  expect(lake.cacheStats()).toMatchObject({ hits: 1, warmInstalls: 1 });
});

test("warming from a missing or foreign directory is a typed error; searching an unprimed frozen lake is a cache miss", async () => {
  using lake = RuLake.builder().consistency(Consistency.frozen()).build();
  const dir = tempDir();
  await expect(lake.warmFromDirAsync(["a", "b"], dir)).rejects.toThrow("has no table.rulake.json");
  expect(() => lake.searchBatch(["a", "b"], new Float32Array(dim), 1)).toThrow(CacheMissError);
  await expect(lake.searchOneAsync(["a", "b"], new Float32Array(dim), 1)).rejects.toThrow("a/b is not cached and backend a is not registered");
  expect(new CacheMissError("x")).toBeInstanceOf(LakeError);
});

/** SHAKE-256 witness recomputed in TypeScript from upstream's documented byte layout. */
function recomputeWitness(dataRef: string, dim: bigint, seed: bigint, rf: bigint, generation: bigint): string {
  const u64 = (v: bigint) => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, v, true);
    return b;
  };
  const enc = new TextEncoder();
  const ref = enc.encode(dataRef);
  const g = new Uint8Array([0, ...u64(generation)]);
  const parts = [enc.encode("rulake-bundle-witness-v1|"), u64(BigInt(ref.length)), ref, enc.encode("|"), u64(dim), u64(seed), u64(rf), enc.encode("|"), u64(BigInt(g.length)), g];
  const bytes = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  return Buffer.from(shake256(bytes, { dkLen: 32 })).toString("hex");
}

test("a session applies queued writes together and primes each touched collection once", async () => {
  const { backend, vectors } = local("hot", "docs", 200, 40);
  const extra = randomVectors(3, dim, 41);
  using lake = RuLake.builder().build();
  lake.registerBackend(backend);
  lake.registerBackend(new CountingAdapter("read-only", vectors));
  {
    await using session = lake.session();
    session.upsert(["hot", "docs"], { ids: [10_000, 10_001, 10_002], vectors: extra }).delete(["hot", "docs"], [0, 3]).prime(["hot", "docs"]);
    expect(lake.isPrimed(["hot", "docs"])).toBe(false);
  }
  expect(lake.isPrimed(["hot", "docs"])).toBe(true);
  expect(lake.cacheStats().primes).toBe(1);
  expect(lake.searchOne(["hot", "docs"], row(extra, dim, 1), 1)[0]!.id).toBe(10_001);
  expect(lake.searchOne(["hot", "docs"], row(vectors, dim, 0), 1)[0]!.id).not.toBe(0);
  expect(backend.size("docs")).toBe(201);
  const discarded = lake.session().upsert(["hot", "docs"], { ids: [20_000], vectors: row(extra, dim, 0) });
  discarded.discard();
  await discarded.commitAsync();
  expect(backend.size("docs")).toBe(201);
  expect(() => lake.session().upsert(["read-only", "c"], { ids: [1], vectors: row(extra, dim, 0) })).toThrow("does not accept writes");
  expect(() => lake.session().prime(["missing", "c"])).toThrow(BackendError);
});
