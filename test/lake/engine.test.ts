/**
 * The lake's engines: `.engine("plus" | "ivf" | "auto")`, the engine in the
 * witness, warm restarts from a saved IVF cache, and deletes and upserts in a
 * LocalBackend reaching the cache as change sets rather than full pulls.
 */
import { describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { BackendError, Consistency, InvalidArgument, LocalBackend, RuLake, type BackendAdapter, type CollectionKey } from "../../src/index.ts";
import { randomVectors, row, tempDir } from "../support/helpers.ts";

const DIM = 16;
const KEY: CollectionKey = ["hot", "docs"];

function localWith(n: number, seed = 1): { local: LocalBackend; vectors: Float32Array; ids: number[] } {
  const local = new LocalBackend("hot");
  const vectors = randomVectors(n, DIM, seed);
  const ids = Array.from({ length: n }, (_, i) => 1000 + i);
  local.putCollection("docs", { ids, vectors });
  return { local, vectors, ids };
}

function lakeWith(engine: "plus" | "ivf" | "auto", backend: BackendAdapter): RuLake {
  const lake = RuLake.builder().engine(engine).build();
  lake.registerBackend(backend);
  return lake;
}

describe("engine choice", () => {
  test("an unknown engine, a bad targetRecall or bad IVF options are InvalidArguments naming the value", () => {
    expect(() => RuLake.builder().engine("hnsw" as never).build()).toThrow(new InvalidArgument('engine must be one of "plus", "ivf", "auto", got "hnsw" (string)'));
    expect(() => RuLake.builder().engine("ivf").targetRecall(1.5).build()).toThrow(new InvalidArgument("targetRecall must be a number in (0, 1], got 1.5 (number)"));
    expect(() => RuLake.builder().targetRecall(Number.NaN).build()).toThrow("targetRecall must be a number in (0, 1], got NaN (number)");
    expect(() => RuLake.builder().ivfOptions({ nlsit: 8 } as never).build()).toThrow('unknown option "nlsit" in ivfOptions; did you mean "nlist"?');
    expect(() => RuLake.builder().ivfOptions({ store: "f8" as never }).build()).toThrow('ivfOptions.store must be "none", "f16" or "f32", got "f8" (string)');
    expect(() => RuLake.builder().ivfOptions({ exBits: 9 }).build()).toThrow("ivfOptions.exBits must be an integer in 1..8, got 9 (number)");
    expect(() => RuLake.builder().ivfOptions({ nprobe: 2.5 }).build()).toThrow("ivfOptions.nprobe must be an integer in 0..16777216, got 2.5 (number)");
    // Checked natively too, whatever the engine: a rerank needs a store.
    expect(() => RuLake.builder().engine("ivf").ivfOptions({ rerank: 10 }).build()).toThrow("rerank 10 needs a store");
  });

  test("ivf: searches return the backend's ids; the engine is reported and changes the witness", () => {
    const { local, vectors, ids } = localWith(3000);
    using ivf = lakeWith("ivf", local);
    using plus = lakeWith("plus", local);
    expect(ivf.engineOf(KEY)).toBeUndefined();
    expect(ivf.searchOne(KEY, row(vectors, DIM, 42), 1)[0]!.id).toBe(ids[42]!);
    expect(plus.searchOne(KEY, row(vectors, DIM, 42), 1)[0]!.id).toBe(ids[42]!);
    expect(ivf.engineOf(KEY)).toBe("ivf");
    expect(plus.engineOf(KEY)).toBe("plus");
    expect(ivf.cacheWitnessOf(KEY)).not.toBe(plus.cacheWitnessOf(KEY));
    using stricter = RuLake.builder().engine("ivf").targetRecall(0.99).build();
    stricter.registerBackend(local);
    stricter.searchOne(KEY, row(vectors, DIM, 0), 1);
    expect(stricter.cacheWitnessOf(KEY)).not.toBe(ivf.cacheWitnessOf(KEY));
  });

  test("auto: IVF from 10,000 vectors (where recommend() picks IVF), Plus below", () => {
    const small = localWith(500);
    const big = localWith(10_000, 2);
    using lake = RuLake.builder().engine("auto").build();
    const bigBackend = new LocalBackend("big");
    bigBackend.putCollection("docs", { ids: big.ids, vectors: big.vectors });
    lake.registerBackend(small.local);
    lake.registerBackend(bigBackend);
    expect(lake.searchOne(KEY, row(small.vectors, DIM, 3), 1)[0]!.id).toBe(small.ids[3]!);
    expect(lake.searchOne(["big", "docs"], row(big.vectors, DIM, 9), 1)[0]!.id).toBe(big.ids[9]!);
    expect(lake.engineOf(KEY)).toBe("plus");
    expect(lake.engineOf(["big", "docs"])).toBe("ivf");
    // The Plus state keeps upstream's witness: the same as a Plus lake's.
    using plus = lakeWith("plus", small.local);
    plus.searchOne(KEY, row(small.vectors, DIM, 3), 1);
    expect(lake.cacheWitnessOf(KEY)).toBe(plus.cacheWitnessOf(KEY));
    const federated = lake.searchFederated([KEY, ["big", "docs"]], row(big.vectors, DIM, 9), 3);
    expect(federated[0]).toMatchObject({ backend: "big", id: big.ids[9]! });
  });
});

describe("warm restart from a saved IVF cache", () => {
  test("returns the original ids and verifies the witness", async () => {
    const { local, vectors, ids } = localWith(4000, 3);
    const dir = tempDir("ruvector-lake-ivf-");
    try {
      using publisher = lakeWith("ivf", local);
      const before = publisher.searchOne(KEY, row(vectors, DIM, 77), 10);
      await publisher.saveCacheToDirAsync(KEY, dir);
      using reader = RuLake.builder().consistency(Consistency.frozen()).build();
      expect(await reader.warmFromDirAsync(KEY, dir)).toBe(4000);
      expect(reader.cacheStats().hits).toBe(0); // its warm-up searches count nowhere
      expect(reader.searchOne(KEY, row(vectors, DIM, 77), 10)).toEqual(before);
      expect(reader.cacheStats().hits).toBe(1);
      expect(before[0]!.id).toBe(ids[77]!);
      expect(reader.cacheWitnessOf(KEY)).toBe(publisher.cacheWitnessOf(KEY)!);
      expect(reader.engineOf(KEY)).toBe("ivf");
      // A lake that warmed from the cache and then meets the backend takes its deletes as changes.
      using follower = RuLake.builder().engine("ivf").build();
      await follower.warmFromDirAsync(KEY, dir);
      follower.registerBackend(local);
      local.delete("docs", [ids[77]!]);
      expect(follower.searchOne(KEY, row(vectors, DIM, 77), 10).map((h) => h.id)).not.toContain(ids[77]!);
      expect(follower.cacheStats()).toMatchObject({ primes: 0, rowsPulled: 0, changeSets: 1, rowsApplied: 1, warmInstalls: 1 });
      const sidecar = `${dir}/table.rulake.json`;
      await Bun.write(sidecar, (await Bun.file(sidecar).text()).replace('"nlist": 0', '"nlist": 8'));
      using tampered = RuLake.builder().build();
      await expect(tampered.warmFromDirAsync(KEY, dir)).rejects.toThrow("witness mismatch");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("deletes and upserts reach the cache as change sets", () => {
  for (const engine of ["plus", "ivf"] as const) {
    test(`${engine}: a delete is invisible to the next fresh search, the witness moves, nothing is pulled again`, async () => {
      const { local, vectors, ids } = localWith(2000, 4);
      using lake = lakeWith(engine, local);
      expect(lake.searchOne(KEY, row(vectors, DIM, 5), 1)[0]!.id).toBe(ids[5]!);
      const w1 = lake.cacheWitnessOf(KEY);
      local.delete("docs", [ids[5]!, ids[6]!]);
      expect(lake.searchOne(KEY, row(vectors, DIM, 5), 10).map((h) => h.id)).not.toContain(ids[5]!);
      expect(lake.cacheWitnessOf(KEY)).not.toBe(w1);
      const replacement = randomVectors(1, DIM, 99);
      local.upsert("docs", { ids: [ids[7]!], vectors: replacement });
      expect((await lake.searchOneAsync(KEY, replacement, 1))[0]!.id).toBe(ids[7]!);
      let s = lake.cacheStatsByCollection()["hot/docs"]!;
      expect([s.primes, s.rowsPulled, s.changeSets, s.rowsApplied]).toEqual([1, 2000, 2, 3]);
      // A replaced collection cannot be told as changes: a full pull.
      local.putCollection("docs", { ids: ids.slice(0, 100), vectors: vectors.subarray(0, 100 * DIM) });
      expect(lake.searchOne(KEY, row(vectors, DIM, 50), 1)[0]!.id).toBe(ids[50]!);
      s = lake.cacheStatsByCollection()["hot/docs"]!;
      expect([s.primes, s.rowsPulled, s.changeSets]).toEqual([2, 2100, 2]);
    });
  }

  test("a cache that no longer holds the remembered state pulls in full", () => {
    const { local, vectors, ids } = localWith(500, 5);
    using lake = lakeWith("plus", local);
    lake.searchOne(KEY, row(vectors, DIM, 1), 1);
    lake.invalidateCache(KEY);
    local.delete("docs", [ids[1]!]);
    expect(lake.searchOne(KEY, row(vectors, DIM, 1), 5).map((h) => h.id)).not.toContain(ids[1]!);
    const s = lake.cacheStatsByCollection()["hot/docs"]!;
    expect([s.primes, s.changeSets]).toEqual([2, 0]);
  });

  test("a malformed change set is a BackendError naming the backend; the cache keeps its state", () => {
    const { local, vectors, ids } = localWith(300, 6);
    const liar: BackendAdapter = {
      id: "hot",
      listCollections: () => local.listCollections(),
      pullVectors: (c) => local.pullVectors(c),
      currentBundle: (c) => local.currentBundle(c),
      changesSince: () => ({ generation: 2, removed: [], upserted: [1], vectors: new Float32Array(3) }),
    };
    using lake = lakeWith("plus", liar);
    lake.searchOne(KEY, row(vectors, DIM, 1), 1);
    const w1 = lake.cacheWitnessOf(KEY);
    local.delete("docs", [ids[1]!]);
    expect(() => lake.searchOne(KEY, row(vectors, DIM, 1), 1)).toThrow(BackendError);
    expect(() => lake.searchOne(KEY, row(vectors, DIM, 1), 1)).toThrow("changesSince gave 1 upserted ids but 3 values (expected 16 for dim 16)");
    expect(lake.cacheWitnessOf(KEY)).toBe(w1);
  });

  test("a changesSince that throws is a BackendError naming it; under auto, publishing an uncached state is a CacheMissError", async () => {
    const { local, vectors, ids } = localWith(300, 8);
    const failing: BackendAdapter = {
      id: "hot",
      listCollections: () => local.listCollections(),
      pullVectors: (c) => local.pullVectors(c),
      currentBundle: (c) => local.currentBundle(c),
      changesSince: () => {
        throw new Error("log unavailable");
      },
    };
    using lake = lakeWith("auto", failing);
    await expect(lake.publishBundleAsync(KEY, tempDir())).rejects.toThrow("with engine auto its engine depends on its size, so search or prime it before publishing");
    lake.searchOne(KEY, row(vectors, DIM, 2), 1);
    local.delete("docs", [ids[2]!]);
    expect(() => lake.searchOne(KEY, row(vectors, DIM, 2), 1)).toThrow(new BackendError("hot", "changesSince failed: log unavailable", { collection: "docs" }));
  });

  test("LocalBackend.changesSince: deletes and upserts since a generation; undefined beyond its log", () => {
    const { local, vectors, ids } = localWith(10, 7);
    expect(local.changesSince("docs", 1)).toEqual({ generation: 1, removed: [], upserted: [], vectors: new Float32Array(0) });
    local.delete("docs", [ids[0]!, 12345]);
    local.upsert("docs", { ids: [ids[1]!, 77], vectors: randomVectors(2, DIM, 8) });
    local.delete("docs", [77]);
    const c = local.changesSince("docs", 1)!;
    expect(c.generation).toBe(4);
    expect(Array.from(c.removed as ArrayLike<number>).sort()).toEqual([ids[0]!, 77].sort());
    expect(Array.from(c.upserted as ArrayLike<number>)).toEqual([ids[1]!]);
    expect(c.vectors).toEqual(randomVectors(2, DIM, 8).subarray(0, DIM));
    expect(local.changesSince("docs", 0)).toBeUndefined();
    expect(local.changesSince("docs", 5)).toBeUndefined();
    expect(local.changesSince("docs", "etag")).toBeUndefined();
    local.putCollection("docs", { ids: [1], vectors: vectors.subarray(0, DIM) });
    expect(local.changesSince("docs", 4)).toBeUndefined();
    // The log keeps at most max(1,024, size) ids: older generations are forgotten, newer ones told.
    const one = vectors.subarray(0, DIM);
    for (let i = 0; i < 1100; i++) local.upsert("docs", { ids: [i % 2], vectors: one });
    expect(local.changesSince("docs", 5)).toBeUndefined();
    expect(Array.from(local.changesSince("docs", 1100)!.upserted as ArrayLike<number>).sort()).toEqual([0, 1]);
  });
});
