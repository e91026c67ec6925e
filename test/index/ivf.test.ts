import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EmptyIndex, FlatF32Index, InvalidArgument, IvfRabitqIndex, loadIndex, PersistError, RabitqPlusIndex } from "../../src/index.ts";
import { randomVectors, row, tempDir } from "../support/helpers.ts";

/** Clustered rows: `centres` random centres, each row one of them plus small noise. */
function clustered(n: number, dim: number, seed: number, centres = 16): Float32Array {
  const c = randomVectors(centres, dim, seed);
  const noise = randomVectors(n, dim, seed + 1);
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const at = (i % centres) * dim;
    for (let j = 0; j < dim; j++) out[i * dim + j] = c[at + j]! + 0.1 * noise[i * dim + j]!;
  }
  return out;
}

describe("determinism", () => {
  const dim = 24;
  const data = clustered(3000, dim, 7);
  const options = { dim, metric: "cosine", store: "f32", rerank: 20, targetRecall: 0.9, seed: 5 } as const;

  test("build, buildAsync and create + addBatch give equal indexes and byte-identical files", async () => {
    const dir = tempDir();
    using a = IvfRabitqIndex.build(data, options);
    using b = await IvfRabitqIndex.buildAsync(data, options);
    using c = IvfRabitqIndex.create(options);
    expect(c.nlist).toBe(0);
    c.addBatch(data, Array.from({ length: 3000 }, (_, i) => i));
    expect(a.equals(b)).toBe(true);
    expect(a.equals(c)).toBe(true);
    a.save(join(dir, "a"));
    await b.saveAsync(join(dir, "b"));
    c.save(join(dir, "c"));
    const bytes = readFileSync(join(dir, "a"));
    expect(readFileSync(join(dir, "b")).equals(bytes)).toBe(true);
    expect(readFileSync(join(dir, "c")).equals(bytes)).toBe(true);
  });

  test("1 and 2 threads, sync and async, before and after save → load give identical hits", async () => {
    const dir = tempDir();
    using index = IvfRabitqIndex.build(data, options);
    const queries = clustered(50, dim, 99);
    const one = index.searchBatch(queries, 10, { threads: 1 });
    const two = index.searchBatch(queries, 10, { threads: 2 });
    expect(two.ids).toEqual(one.ids);
    expect(two.scores).toEqual(one.scores);
    index.save(join(dir, "i"));
    using back = IvfRabitqIndex.load(join(dir, "i"));
    using backAsync = await IvfRabitqIndex.loadAsync(join(dir, "i"));
    expect(back.equals(index) && backAsync.equals(index)).toBe(true);
    expect(back.searchBatch(queries, 10).scores).toEqual(one.scores);
    expect((await backAsync.searchBatchAsync(queries, 10)).ids).toEqual(one.ids);
    expect(await index.searchAsync(row(queries, dim, 3), 10)).toEqual(one.hits(3));
    expect(back.calibration).toEqual(index.calibration);
  });

  test("add loops after build continue deterministically and the new rows are found", () => {
    const extra = clustered(200, dim, 11);
    const make = () => {
      const index = IvfRabitqIndex.build(data, options);
      for (let i = 0; i < 200; i++) index.add(10_000 + i, row(extra, dim, i));
      return index;
    };
    using a = make();
    using b = make();
    expect(a.length).toBe(3200);
    expect(a.equals(b)).toBe(true);
    const hit = a.search(row(extra, dim, 17), 1, { nprobe: a.nlist })[0]!;
    expect(hit.id).toBe(10_017);
    expect(hit.score).toBeLessThan(1e-5);
  });
});

describe("the full surface of an index class", () => {
  const dim = 16;
  const data = randomVectors(500, dim, 3);
  const big = Number.MAX_SAFE_INTEGER;
  const ids = Array.from({ length: 500 }, (_, i) => big - i);

  test("get, ids, iteration and toFloat32Array with an f32 store; ids up to 2^53 − 1", () => {
    using index = IvfRabitqIndex.build(data, { dim, store: "f32", ids });
    expect(index.get(big - 7)).toEqual(row(data, dim, 7));
    expect(index.get(3)).toBeUndefined();
    expect(Array.from(index.ids())).toEqual(ids);
    expect(index.toFloat32Array()).toEqual(data);
    const [first] = index;
    expect(first![0]).toBe(big);
    expect(first![1]).toEqual(row(data, dim, 0));
    expect(index.search(row(data, dim, 9), 1, { nprobe: index.nlist })[0]!.id).toBe(big - 9);
  });

  test("an f16 store gives vectors rounded to f16; codes only gives a clear error", () => {
    using f16 = IvfRabitqIndex.build(data, { dim, store: "f16" });
    const got = f16.get(4)!;
    for (let j = 0; j < dim; j++) expect(Math.abs(got[j]! - data[4 * dim + j]!)).toBeLessThan(2e-3);
    using codes = IvfRabitqIndex.build(data, { dim });
    expect(() => codes.get(4)).toThrow(new InvalidArgument('this IvfRabitqIndex keeps codes only (store "none"); build it with store "f16" or "f32" to keep vectors'));
  });

  test("options and defaults are reported, toString names them, and per-search overrides apply", () => {
    using index = IvfRabitqIndex.build(data, { dim, nlist: 8, exBits: 4, store: "f16", rerank: 30, nprobe: 2 });
    expect([index.nlist, index.exBits, index.store, index.rerank, index.nprobe]).toEqual([8, 4, "f16", 30, 2]);
    expect(index.calibration).toBeUndefined();
    expect(String(index)).toMatch(/^IvfRabitqIndex \{ n: 500, dim: 16, metric: "l2", nlist: 8, nprobe: 2, exBits: 4, store: "f16", rerank: 30, memory: ".+" \}$/);
    using defaults = IvfRabitqIndex.build(data, { dim });
    expect([defaults.nlist, defaults.nprobe, defaults.exBits, defaults.store, defaults.rerank]).toEqual([32, 4, 7, "none", 0]);
    const q = row(data, dim, 1);
    expect(index.search(q, 5, { nprobe: 8, rerank: 500 }).map((h) => h.id)).toEqual(exactTop(data, dim, q, 5));
  });

  test("loadIndex knows the class; a file of another class is refused by name", () => {
    const dir = tempDir();
    using index = IvfRabitqIndex.build(data, { dim });
    index.save(join(dir, "ivf"));
    using loaded = loadIndex(join(dir, "ivf"));
    expect(loaded).toBeInstanceOf(IvfRabitqIndex);
    using flat = FlatF32Index.build(data, { dim });
    flat.save(join(dir, "flat"));
    expect(() => IvfRabitqIndex.load(join(dir, "flat"))).toThrow(new PersistError(`${join(dir, "flat")}: file holds a FlatF32Index, not a IvfRabitqIndex`));
    expect(() => RabitqPlusIndex.load(join(dir, "ivf"))).toThrow(new PersistError(`${join(dir, "ivf")}: file holds a IvfRabitqIndex, not a RabitqPlusIndex`));
  });
});

/** Ids of the k exact nearest rows under squared L2. */
function exactTop(data: Float32Array, dim: number, q: Float32Array, k: number): number[] {
  const d: Array<[number, number]> = [];
  for (let i = 0; i < data.length / dim; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += (data[i * dim + j]! - q[j]!) ** 2;
    d.push([s, i]);
  }
  return d.sort((a, b) => a[0] - b[0] || a[1] - b[1]).slice(0, k).map((x) => x[1]);
}

describe("edge cases answer correctly or raise typed errors, never crash or return NaN", () => {
  const dim = 8;

  test("n = 1, n < 32, k > n, nprobe > nlist", () => {
    const one = randomVectors(1, dim, 1);
    using single = IvfRabitqIndex.build(one, { dim, store: "f32", rerank: 4 });
    expect(single.search(one, 10)).toEqual([{ id: 0, score: 0 }]);
    const few = randomVectors(20, dim, 2);
    using small = IvfRabitqIndex.build(few, { dim, nlist: 20 });
    const hits = small.search(row(few, dim, 3), 50, { nprobe: 1000 });
    expect(hits.length).toBe(20);
    expect(new Set(hits.map((h) => h.id)).size).toBe(20);
    expect(hits.every((h) => Number.isFinite(h.score))).toBe(true);
  });

  test("nlist > n is refused naming both numbers", () => {
    expect(() => IvfRabitqIndex.build(randomVectors(10, dim, 1), { dim, nlist: 11 })).toThrow(new InvalidArgument("nlist 11 exceeds the number of vectors 10"));
  });

  test("duplicates and all-equal vectors give finite scores; all hits are found", () => {
    const same = new Float32Array(64 * dim).fill(0.5);
    using index = IvfRabitqIndex.build(same, { dim, store: "f32", rerank: 64 });
    const hits = index.search(row(same, dim, 0), 64);
    expect(hits.length).toBe(64);
    expect(hits.every((h) => h.score === 0)).toBe(true);
    using codes = IvfRabitqIndex.build(same, { dim, metric: "cosine" });
    expect(codes.search(row(same, dim, 0), 5).every((h) => Number.isFinite(h.score))).toBe(true);
  });

  test("a zero vector under cosine is a typed error naming its row", () => {
    const data = randomVectors(40, dim, 4);
    data.fill(0, 5 * dim, 6 * dim);
    expect(() => IvfRabitqIndex.build(data, { dim, metric: "cosine" })).toThrow(InvalidArgument);
    expect(() => IvfRabitqIndex.build(data, { dim, metric: "cosine" })).toThrow(/5/);
  });

  test("an empty index: search is EmptyIndex, save names what to do", () => {
    using index = IvfRabitqIndex.create({ dim });
    expect(() => index.search(new Float32Array(dim), 1)).toThrow(EmptyIndex);
    expect(() => index.save(join(tempDir(), "x"))).toThrow("an empty IvfRabitqIndex has no lists to save yet: add vectors first");
    expect(() => IvfRabitqIndex.build(new Float32Array(0), { dim })).toThrow(EmptyIndex);
  });
});

describe("bad options are typed errors naming the value", () => {
  const dim = 4;
  const data = randomVectors(40, dim, 9);
  const cases: Array<[string, () => unknown, string]> = [
    ["store", () => IvfRabitqIndex.build(data, { dim, store: "f8" as never }), 'store must be "none", "f16" or "f32", got "f8"'],
    ["rerank without a store", () => IvfRabitqIndex.build(data, { dim, rerank: 10 }), 'rerank 10 needs a store to rerank from: add store: "f16" or "f32"'],
    ["exBits", () => IvfRabitqIndex.build(data, { dim, exBits: 9 }), "exBits must be an integer in 1..8, got 9"],
    ["targetRecall", () => IvfRabitqIndex.build(data, { dim, targetRecall: 1.5 }), "targetRecall must be a number in (0, 1], got 1.5"],
    ["nlist", () => IvfRabitqIndex.build(data, { dim, nlist: 0 }), "nlist must be an integer in 1..16777216, got 0"],
    ["a classic option", () => IvfRabitqIndex.build(data, { dim, rerankFactor: 4 } as never), 'unknown option "rerankFactor" in IvfRabitqIndex options (valid: dim, seed, metric, ids, tags, onProgress, nlist, exBits, store, nprobe, rerank, targetRecall)'],
    ["an IVF option elsewhere", () => FlatF32Index.build(data, { dim, nprobe: 4 } as never), 'unknown option "nprobe" in FlatF32Index options'],
    ["search rerankFactor", () => IvfRabitqIndex.build(data, { dim }).search(row(data, dim, 0), 1, { rerankFactor: 2 } as never), 'unknown option "rerankFactor" in search options (valid: nprobe, rerank, filter)'],
    ["search nprobe elsewhere", () => RabitqPlusIndex.build(data, { dim }).search(row(data, dim, 0), 1, { nprobe: 2 } as never), 'unknown option "nprobe" in search options (valid: rerankFactor, filter)'],
    ["search rerank without a store", () => IvfRabitqIndex.build(data, { dim }).search(row(data, dim, 0), 1, { rerank: 5 }), "rerank 5 needs a store; this index was built with store none"],
    ["search nprobe 0", () => IvfRabitqIndex.build(data, { dim }).searchBatch(data, 1, { nprobe: 0 }), "nprobe must be an integer in 1..16777216, got 0"],
  ];
  for (const [name, run, message] of cases) {
    test(name, () => {
      expect(run).toThrow(InvalidArgument);
      expect(run).toThrow(message);
    });
  }
});

describe("damaged files raise PersistError, never crash", () => {
  test("truncations and bit flips of a real file, through loadIndex", () => {
    const dir = tempDir();
    const dim = 12;
    using index = IvfRabitqIndex.build(randomVectors(100, dim, 8), { dim, nlist: 4, store: "f16", rerank: 8 });
    const path = join(dir, "good");
    index.save(path);
    const good = readFileSync(path);
    const bad = join(dir, "bad");
    let variants = 0;
    const refused = (bytes: Uint8Array) => {
      writeFileSync(bad, bytes);
      variants++;
      expect(() => loadIndex(bad)).toThrow(PersistError);
    };
    for (let len = 0; len < good.length; len += 97) refused(good.subarray(0, len));
    for (let at = 0; at < good.length; at += 13) {
      const flipped = Uint8Array.from(good);
      flipped[at]! ^= 0x10;
      refused(flipped);
    }
    expect(variants).toBeGreaterThan(300);
  }, 120_000);
});

describe("buildAsync reports progress", () => {
  const dim = 32;
  const n = 60_000;
  const data = randomVectors(n, dim, 21);

  test("onProgress sees work done grow towards a fixed total: n per stage (prepare, rotate, train, encode, calibrate)", async () => {
    const calls: Array<[number, number]> = [];
    using index = await IvfRabitqIndex.buildAsync(data, { dim, targetRecall: 0.9, onProgress: (done, total) => calls.push([done, total]) });
    expect(index.length).toBe(n);
    expect(calls.length).toBeGreaterThan(0);
    for (const [i, [done, total]] of calls.entries()) {
      expect(total).toBe(5 * n);
      expect(done).toBeLessThanOrEqual(total);
      if (i > 0) expect(done).toBeGreaterThanOrEqual(calls[i - 1]![0]);
    }
  }, 120_000);

  test("a callback that throws fails the build with its error; a sync build or a non-function is refused", async () => {
    const boom = new Error("stop");
    expect(await IvfRabitqIndex.buildAsync(data, { dim, targetRecall: 0.9, onProgress: () => { throw boom; } }).catch((e) => e)).toBe(boom);
    expect(() => FlatF32Index.build(data, { dim, onProgress: () => {} })).toThrow(new InvalidArgument("onProgress is reported by buildAsync only: build blocks the JS thread until it returns"));
    expect(await RabitqPlusIndex.buildAsync(data, { dim, onProgress: 5 as never }).catch((e) => e)).toEqual(new InvalidArgument("onProgress must be a function (done, total) => void, got 5 (number)"));
  }, 120_000);
});
