import { describe, expect, test } from "bun:test";
import {
  ClosedError,
  DimensionMismatch,
  EmptyIndex,
  FlatF32Index,
  InvalidArgument,
  RabitqAsymIndex,
  RabitqIndex,
  RabitqPlusIndex,
  RuVectorError,
  IndexError,
  type VectorIndex,
} from "../../src/index.ts";
import { randomVectors, row } from "../support/helpers.ts";

const VARIANTS = [FlatF32Index, RabitqIndex, RabitqPlusIndex, RabitqAsymIndex] as const;
const KEEPS_VECTORS = [FlatF32Index, RabitqPlusIndex, RabitqAsymIndex] as const;
const dim = 24;
const n = 300;
const data = randomVectors(n, dim, 7);

describe.each(VARIANTS)("%p", (Variant) => {
  test("build, search, add, length, dim, memoryBytes", () => {
    using idx = Variant.build(data, { dim, seed: 3 });
    expect(idx.length).toBe(n);
    expect(idx.dim).toBe(dim);
    expect(idx.memoryBytes).toBeGreaterThan(0);
    const hits = idx.search(row(data, dim, 5), 10);
    expect(hits).toHaveLength(10);
    for (let i = 1; i < hits.length; i++) expect(hits[i]!.score).toBeGreaterThanOrEqual(hits[i - 1]!.score);
    idx.add(1000, row(data, dim, 0));
    expect(idx.length).toBe(n + 1);
    expect(idx.ids().at(-1)).toBe(1000);
  });

  test("ids up to 2^53-1 round-trip through build, add and search", () => {
    const big = Number.MAX_SAFE_INTEGER;
    const ids = Array.from({ length: n }, (_, i) => big - 2 * i);
    using idx = Variant.build(data, { dim, ids, rerankFactor: 50 });
    idx.add(big - 1, row(data, dim, 9).map((x) => x + 0.001));
    const hits = idx.search(row(data, dim, 3), n + 1);
    expect(new Set(hits.map((h) => h.id))).toEqual(new Set([...ids, big - 1]));
    expect(Array.from(idx.ids())).toEqual([...ids, big - 1]);
  });

  test("k > n returns n hits; k <= 0 and non-integer k are errors", () => {
    using idx = Variant.build(data.subarray(0, 5 * dim), { dim });
    expect(idx.search(row(data, dim, 0), 50)).toHaveLength(5);
    for (const k of [0, -1, 1.5, Number.NaN]) expect(() => idx.search(row(data, dim, 0), k)).toThrow(InvalidArgument);
  });

  test("search on an empty index raises EmptyIndex", async () => {
    using idx = Variant.create({ dim });
    expect(() => idx.search(new Float32Array(dim), 3)).toThrow(EmptyIndex);
    await expect(idx.searchAsync(new Float32Array(dim), 3)).rejects.toThrow(EmptyIndex);
    expect(() => idx.searchBatch(new Float32Array(dim), 3)).toThrow(EmptyIndex);
  });

  test("bad input gets typed errors naming the values", () => {
    using idx = Variant.build(data, { dim });
    const dm = (() => {
      try {
        idx.search(new Float32Array(dim - 1), 3);
      } catch (e) {
        return e;
      }
    })();
    expect(dm).toBeInstanceOf(DimensionMismatch);
    expect(dm).toBeInstanceOf(IndexError);
    expect((dm as DimensionMismatch).message).toBe(`dimension mismatch: expected ${dim}, got ${dim - 1}`);
    expect((dm as DimensionMismatch).expected).toBe(dim);
    expect(() => idx.add(1, new Float32Array(dim + 1))).toThrow(`expected ${dim}, got ${dim + 1}`);
    expect(() => Variant.build(new Float64Array(dim) as unknown as Float32Array, { dim })).toThrow("must be a Float32Array, got Float64Array");
    expect(() => Variant.build([1, 2] as unknown as Float32Array, { dim: 2 })).toThrow("got [1, 2] (Array of 2); convert it with Float32Array.from(...)");
    expect(() => Variant.build(new Float32Array(dim + 1), { dim })).toThrow(`length ${dim + 1} is not a multiple of dim ${dim}`);
    const nan = data.slice(0, 3 * dim);
    nan[2 * dim + 4] = Number.NaN;
    expect(() => Variant.build(nan, { dim })).toThrow("vector 2 has a non-finite value (NaN) at component 4");
    nan[2 * dim + 4] = Number.POSITIVE_INFINITY;
    expect(() => Variant.build(nan, { dim })).toThrow("non-finite value (inf)");
    const q = new Float32Array(dim);
    q[1] = Number.NEGATIVE_INFINITY;
    expect(() => idx.search(q, 3)).toThrow(InvalidArgument);
    expect(() => idx.searchBatch(q, 3)).toThrow(InvalidArgument);
    expect(() => Variant.create({ dim: 0 })).toThrow("dim must be an integer in 1..8192, got 0");
    expect(() => Variant.create({ dim: 9000 })).toThrow(InvalidArgument);
    expect(() => Variant.create({ dim, rerankFactor: 0 })).toThrow("rerankFactor must be an integer in 1..1024, got 0");
    expect(() => Variant.create({ dim, seed: -1 })).toThrow("seed must be");
    expect(() => Variant.create({ dim, metric: "dot" as "l2" })).toThrow('metric must be "l2" or "cosine", got "dot"');
    expect(() => idx.search(row(data, dim, 0), 3, { threads: -1 } as never)).toThrow('unknown option "threads" in search options');
    expect(() => idx.searchBatch(row(data, dim, 0), 3, { threads: -1 })).toThrow("threads must be an integer");
  });

  test("ids are validated: count, range, integrality, duplicates", () => {
    const three = data.subarray(0, 3 * dim);
    expect(() => Variant.build(three, { dim, ids: [1, 2] })).toThrow("got 2 ids for 3 vectors");
    expect(() => Variant.build(three, { dim, ids: [1, 2, -3] })).toThrow("ids[2] = -3 is not an integer in 0..2^53-1");
    expect(() => Variant.build(three, { dim, ids: [1, 2.5, 3] })).toThrow("ids[1] = 2.5");
    expect(() => Variant.build(three, { dim, ids: [1, 2, 2 ** 53] })).toThrow(InvalidArgument);
    expect(() => Variant.build(three, { dim, ids: new BigUint64Array([1n, 2n, 2n ** 53n]) })).toThrow("exceeds the maximum id");
    expect(() => Variant.build(three, { dim, ids: [4, 5, 4] })).toThrow("duplicate id 4 at position 2");
    using idx = Variant.build(three, { dim, ids: new Uint32Array([7, 8, 9]) });
    expect(() => idx.add(8, row(data, dim, 0))).toThrow("duplicate id 8");
    expect(() => idx.add(-1, row(data, dim, 0))).toThrow("id must be an integer in 0..2^53-1, got -1");
    expect(idx.length).toBe(3);
  });

  test("addBatch is all-or-nothing", () => {
    using idx = Variant.build(data.subarray(0, 4 * dim), { dim });
    const batch = data.slice(4 * dim, 8 * dim);
    batch[3 * dim] = Number.NaN;
    expect(() => idx.addBatch(batch, [10, 11, 12, 13])).toThrow("vector 3 has a non-finite value");
    expect(idx.length).toBe(4);
    idx.addBatch(data.subarray(4 * dim, 8 * dim), [10, 11, 12, 13]);
    expect(idx.length).toBe(8);
  });

  test("cosine metric reports cosine distance and rejects zero vectors", () => {
    using idx = Variant.build(data, { dim, metric: "cosine", rerankFactor: 300 });
    const q = row(data, dim, 11).map((x) => x * 3);
    const [best] = idx.search(q, 1);
    expect(best!.id).toBe(11);
    expect(best!.score).toBeCloseTo(0, 5);
    const opposite = idx.search(q.map((x) => -x), n).at(-1)!;
    expect(opposite.id).toBe(11);
    expect(opposite.score).toBeCloseTo(2, 4);
    expect(idx.metric).toBe("cosine");
    expect(() => idx.search(new Float32Array(dim), 1)).toThrow("query 0 is all zeros; cosine needs a non-zero vector");
    expect(() => idx.add(5000, new Float32Array(dim))).toThrow("vector 0 is all zeros");
  });

  test("searchBatch equals single searches, on one thread and on all", async () => {
    using idx = Variant.build(data, { dim });
    const queries = data.subarray(0, 20 * dim);
    const all = idx.searchBatch(queries, 7);
    const one = idx.searchBatch(queries, 7, { threads: 1 });
    const viaAsync = await idx.searchBatchAsync(queries, 7);
    expect(all.count).toBe(20);
    expect(all.k).toBe(7);
    expect(Array.from(one.ids)).toEqual(Array.from(all.ids));
    expect(Array.from(viaAsync.scores)).toEqual(Array.from(all.scores));
    for (let i = 0; i < 20; i++) expect(all.hits(i)).toEqual(idx.search(row(data, dim, i), 7));
    expect(() => all.hits(20)).toThrow("query index 20 out of range (0..19)");
    expect(() => idx.searchBatch(data.subarray(0, dim + 1), 3)).toThrow("not a multiple of dim");
  });

  test("searchAsync equals search", async () => {
    using idx = Variant.build(data, { dim });
    const q = row(data, dim, 42);
    expect(await idx.searchAsync(q, 9)).toEqual(idx.search(q, 9));
  });

  test("determinism: build, buildAsync and an add loop give identical indexes and results", async () => {
    const ids = Array.from({ length: n }, (_, i) => i * 3 + 1);
    using a = Variant.build(data, { dim, seed: 11, ids });
    using b = await Variant.buildAsync(data, { dim, seed: 11, ids });
    using c = Variant.create({ dim, seed: 11 });
    for (let i = 0; i < n; i++) c.add(ids[i]!, row(data, dim, i));
    using d = Variant.build(data, { dim, seed: 12, ids });
    expect(a.equals(b)).toBe(true);
    expect(a.equals(c)).toBe(true);
    if (Variant !== FlatF32Index) expect(a.equals(d)).toBe(false);
    const queries = randomVectors(30, dim, 99);
    const [ra, rb, rc] = [a, b, c].map((x) => x.searchBatch(queries, 10));
    expect(Array.from(rb!.ids)).toEqual(Array.from(ra!.ids));
    expect(Array.from(rc!.scores)).toEqual(Array.from(ra!.scores));
  });

  test("closed indexes throw ClosedError; close is idempotent; using frees", async () => {
    const idx = Variant.build(data, { dim });
    idx.close();
    idx.close();
    expect(idx.closed).toBe(true);
    expect(() => idx.search(row(data, dim, 0), 1)).toThrow(ClosedError);
    expect(() => idx.length).toThrow("is closed");
    expect(() => idx.add(9999, row(data, dim, 0))).toThrow(ClosedError);
    expect(() => idx.searchAsync(row(data, dim, 0), 1)).toThrow(ClosedError);
    expect(() => idx.memoryBytes).toThrow(ClosedError);
    expect(String(idx)).toContain("closed");
    expect(new ClosedError("x")).toBeInstanceOf(RuVectorError);
    let escaped: VectorIndex | undefined;
    {
      using scoped = Variant.build(data, { dim });
      escaped = scoped;
    }
    expect(escaped.closed).toBe(true);
  });

  test("closing during in-flight async searches is safe", async () => {
    const idx = Variant.build(randomVectors(5000, 64, 5), { dim: 64 });
    const q = randomVectors(1, 64, 6);
    const pending = Array.from({ length: 20 }, () => idx.searchAsync(q, 10));
    idx.close();
    const results = await Promise.all(pending);
    for (const r of results) expect(r).toEqual(results[0]!);
  });

  test("inspect shows variant, n, dim and memory", () => {
    using idx = Variant.build(data, { dim });
    const text = Bun.inspect(idx);
    expect(text).toStartWith(`${Variant.name} { n: ${n}, dim: ${dim}, metric: "l2"`);
    expect(text).toMatch(/memory: "[\d.]+ (B|KiB|MiB)"/);
  });

  test("the constructor is not public API", () => {
    expect(() => new (Variant as unknown as new (x: unknown) => unknown)({})).toThrow(InvalidArgument);
  });
});

describe.each(KEEPS_VECTORS)("%p conveniences", (Variant) => {
  test("get, ids, iteration and toFloat32Array return the stored vectors", () => {
    const ids = Array.from({ length: n }, (_, i) => 10 * i);
    using idx = Variant.build(data, { dim, ids });
    expect(Array.from(idx.get(50)!)).toEqual(Array.from(row(data, dim, 5)));
    expect(idx.get(51)).toBeUndefined();
    expect(Array.from(idx.toFloat32Array())).toEqual(Array.from(data));
    let i = 0;
    for (const [id, v] of idx) {
      expect(id).toBe(ids[i]!);
      expect(Array.from(v)).toEqual(Array.from(row(data, dim, i)));
      i++;
    }
    expect(i).toBe(n);
  });

  test("cosine indexes store unit vectors", () => {
    using idx = Variant.build(data, { dim, metric: "cosine" });
    const v = idx.get(3)!;
    expect(Math.hypot(...v)).toBeCloseTo(1, 5);
  });
});

test("RabitqIndex keeps codes only: get and toFloat32Array explain why they cannot work", () => {
  using idx = RabitqIndex.build(data, { dim });
  expect(() => idx.get(1)).toThrow("RabitqIndex stores 1-bit codes only; original vectors are not kept");
  expect(() => idx.toFloat32Array()).toThrow(InvalidArgument);
  expect(idx.ids()).toHaveLength(n);
});

test("per-search rerankFactor is a RabitqPlusIndex feature", () => {
  using plus = RabitqPlusIndex.build(data, { dim, rerankFactor: 1 });
  const q = row(data, dim, 8);
  expect(plus.search(q, 1, { rerankFactor: 300 })[0]!.id).toBe(8);
  expect(() => plus.search(q, 1, { rerankFactor: 0 })).toThrow("rerankFactor must be an integer in 1..1024, got 0");
  using flat = FlatF32Index.build(data, { dim });
  expect(() => flat.search(q, 1, { rerankFactor: 5 })).toThrow("supported by RabitqPlusIndex only");
});

test("equals distinguishes variants, data and ids", () => {
  using a = RabitqPlusIndex.build(data, { dim });
  using b = FlatF32Index.build(data, { dim });
  using c = RabitqPlusIndex.build(data, { dim, ids: Array.from({ length: n }, (_, i) => i + 1) });
  expect(a.equals(a)).toBe(true);
  expect(a.equals(b)).toBe(false);
  expect(a.equals(c)).toBe(false);
  expect(a.equals({} as VectorIndex)).toBe(false);
});

test("padding to 64 bits is on by default and can be turned off", () => {
  using padded = RabitqIndex.build(data, { dim });
  using plain = RabitqIndex.build(data, { dim, padToWord: false });
  expect(padded.equals(plain)).toBe(false);
  expect(padded.dim).toBe(dim);
});
