import { afterAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { ClosedError, DimensionMismatch, FlatF32Index, InvalidArgument, IvfRabitqIndex, loadIndex, RabitqAsymIndex, RabitqIndex, RabitqPlusIndex, UnknownId, type VectorIndex } from "../../src/index.ts";
import { glove } from "../support/datasets.ts";
import { randomVectors, row, tempDir } from "../support/helpers.ts";

const N = 10_000;
const NQ = 100;
const K = 10;

/** The five classes, each built the way its users build it on GloVe (cosine). */
const VARIANTS: [string, (data: Float32Array, ids: number[]) => VectorIndex][] = [
  ["FlatF32Index", (d, ids) => FlatF32Index.build(d, { dim: 100, metric: "cosine", ids })],
  ["RabitqIndex", (d, ids) => RabitqIndex.build(d, { dim: 100, metric: "cosine", ids })],
  ["RabitqPlusIndex", (d, ids) => RabitqPlusIndex.build(d, { dim: 100, metric: "cosine", ids })],
  ["RabitqAsymIndex", (d, ids) => RabitqAsymIndex.build(d, { dim: 100, metric: "cosine", ids, rerankFactor: 4 })],
  ["IvfRabitqIndex", (d, ids) => IvfRabitqIndex.build(d, { dim: 100, metric: "cosine", ids, store: "f16", rerank: 40, nprobe: 16 })],
];

function recall(got: Float64Array, truth: Float64Array): number {
  let hit = 0;
  for (let q = 0; q < NQ; q++) {
    const want = new Set(truth.subarray(q * K, (q + 1) * K));
    for (let j = 0; j < K; j++) if (want.has(got[q * K + j]!)) hit++;
  }
  return hit / (NQ * K);
}

describe("removing half of GloVe-100 (10k rows)", async () => {
  const ds = await glove();
  const base = ds.base.data.subarray(0, N * 100);
  const queries = ds.queries.data.subarray(0, NQ * 100);
  const allIds = Array.from({ length: N }, (_, i) => i);
  const removed = allIds.filter((i) => i % 2 === 1);
  const survivorIds = allIds.filter((i) => i % 2 === 0);
  const survivors = new Float32Array(survivorIds.length * 100);
  survivorIds.forEach((id, j) => survivors.set(row(base, 100, id), j * 100));
  using exact = FlatF32Index.build(survivors, { dim: 100, metric: "cosine", ids: survivorIds });
  const truth = exact.searchBatch(queries, K).ids;
  const dir = tempDir();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const [name, make] of VARIANTS) {
    test(`${name}: survivors answer like a fresh build; remove → save → load never returns a removed id`, async () => {
      using index = make(base, allIds);
      expect(index.removeBatch(removed)).toBe(N / 2);
      expect(index.length).toBe(N / 2);
      const got = index.searchBatch(queries, K).ids;
      expect(got.every((id) => id % 2 === 0)).toBe(true);
      if (name === "FlatF32Index") {
        expect(Array.from(got)).toEqual(Array.from(truth));
      } else {
        using fresh = make(survivors, survivorIds);
        const freshRecall = recall(fresh.searchBatch(queries, K).ids, truth);
        expect(recall(got, truth)).toBeGreaterThanOrEqual(freshRecall - 0.02);
      }
      expect(index.get(1)).toBeUndefined();
      expect(Array.from(index.ids())).toEqual(survivorIds);
      if (name !== "RabitqIndex") expect([...index].every(([id]) => id % 2 === 0)).toBe(true);
      const path = join(dir, name);
      await index.saveAsync(path);
      using loaded = loadIndex(path);
      expect(loaded.constructor.name).toBe(name);
      expect(loaded.length).toBe(N / 2);
      expect(loaded.searchBatch(queries, K).ids.every((id) => id % 2 === 0)).toBe(true);
      expect(Array.from(loaded.ids())).toEqual(survivorIds);
      expect(loaded.equals(index)).toBe(true);
    }, 120_000);
  }

  test("memoryBytes counts tombstoned rows until compact() drops them; results do not change", () => {
    using index = FlatF32Index.build(base, { dim: 100, metric: "cosine" });
    const full = index.memoryBytes;
    index.removeBatch(removed);
    expect(index.memoryBytes).toBeGreaterThan(full * 0.9);
    const before = index.searchBatch(queries, K).ids;
    index.compact();
    expect(index.memoryBytes).toBeLessThan(full * 0.6);
    expect(Array.from(index.searchBatch(queries, K).ids)).toEqual(Array.from(before));
  });
});

describe("remove and upsert: ids, errors and re-adding", () => {
  const dim = 8;
  const data = randomVectors(50, dim, 3);

  for (const [name, make] of [
    ["FlatF32Index", () => FlatF32Index.build(data, { dim })],
    ["RabitqIndex", () => RabitqIndex.build(data, { dim })],
    ["RabitqPlusIndex", () => RabitqPlusIndex.build(data, { dim })],
    ["RabitqAsymIndex", () => RabitqAsymIndex.build(data, { dim })],
    ["IvfRabitqIndex", () => IvfRabitqIndex.build(data, { dim, nlist: 4, store: "f32", rerank: 20, nprobe: 4 })],
  ] as const) {
    test(`${name}: a removed id can be added again; upsert replaces; length counts live vectors`, () => {
      using index = make();
      const v = new Float32Array(dim).fill(0.5);
      expect(index.remove(7)).toBe(true);
      expect(index.search(row(data, dim, 7), 50).some((h) => h.id === 7)).toBe(false);
      index.add(7, v);
      expect(index.length).toBe(50);
      expect(index.search(v, 1)[0]!.id).toBe(7);
      index.upsert(3, v);
      index.upsertBatch(new Float32Array(2 * dim).fill(-0.5), [60, 61]);
      expect(index.length).toBe(52);
      expect(Array.from(index.ids()).filter((id) => id === 3)).toEqual([3]);
      const near = index.search(v, 2).map((h) => h.id).sort();
      expect(near).toEqual([3, 7]);
    });
  }

  test("an unknown id throws UnknownId naming it, and nothing is removed", () => {
    using index = FlatF32Index.build(data, { dim });
    const e = (() => {
      try {
        index.removeBatch([1, 2, 999]);
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(UnknownId);
    expect(e).toBeInstanceOf(InvalidArgument);
    expect((e as UnknownId).id).toBe(999);
    expect((e as UnknownId).code).toBe("UNKNOWN_ID");
    expect((e as UnknownId).message).toBe("id 999 is not in the index");
    expect(index.length).toBe(50);
    expect(() => index.remove(998)).toThrow(new UnknownId(998));
    expect(index.remove(998, { ignoreMissing: true })).toBe(false);
    expect(index.removeBatch(new Uint32Array([1, 2, 999]), { ignoreMissing: true })).toBe(2);
    expect(index.length).toBe(48);
    expect(() => index.remove(1)).toThrow(UnknownId);
  });

  test("bad ids and options are typed errors naming the value", () => {
    using index = FlatF32Index.build(data, { dim });
    expect(() => index.remove(-1)).toThrow("id must be an integer in 0..2^53-1, got -1");
    expect(() => index.remove(1.5)).toThrow("id must be an integer in 0..2^53-1, got 1.5");
    expect(() => index.removeBatch([1, -2])).toThrow("ids[1] = -2 is not an integer in 0..2^53-1");
    expect(() => index.removeBatch(new Set([1]) as never)).toThrow("ids must be a Uint32Array, BigUint64Array or number[], got Set");
    expect(() => index.removeBatch("12" as never)).toThrow("ids must be a Uint32Array, BigUint64Array or number[], got 12");
    expect(() => index.removeBatch([1, 1])).toThrow("duplicate id 1 at position 1 of the removal");
    expect(() => index.remove(1, { ignoreMissing: "yes" as never })).toThrow("ignoreMissing must be a boolean, got yes");
    expect(() => index.upsertBatch(new Float32Array(2 * dim), [4, 4])).toThrow("duplicate id 4 at position 1");
    expect(() => index.upsertBatch(new Float32Array(2 * dim), [4])).toThrow("got 1 ids for 2 vectors");
    expect(() => index.upsert(4, new Float32Array(dim + 1))).toThrow(new DimensionMismatch(dim, dim + 1));
    expect(index.length).toBe(50);
  });

  test("a closed index refuses remove, upsert and compact with ClosedError", () => {
    const index = FlatF32Index.build(data, { dim });
    index.close();
    expect(() => index.remove(1)).toThrow(ClosedError);
    expect(() => index.removeBatch([1])).toThrow(ClosedError);
    expect(() => index.upsert(1, row(data, dim, 0))).toThrow(ClosedError);
    expect(() => index.upsertBatch(row(data, dim, 0), [1])).toThrow(ClosedError);
    expect(() => index.compact()).toThrow(ClosedError);
  });

  test("removing every vector leaves an empty index that refuses searches and can be refilled", () => {
    using index = RabitqPlusIndex.build(data, { dim });
    index.removeBatch(Array.from({ length: 50 }, (_, i) => i));
    expect(index.length).toBe(0);
    expect(() => index.search(row(data, dim, 0), 3)).toThrow("search on an empty index");
    index.addBatch(data.subarray(0, 2 * dim), [0, 1]);
    expect(index.search(row(data, dim, 1), 1)[0]!.id).toBe(1);
  });
});

describe("searchAsync while remove runs", () => {
  const dim = 32;
  const n = 4000;
  const data = randomVectors(n, dim, 11);
  const queries = randomVectors(16, dim, 12);
  const odd = Array.from({ length: n / 2 }, (_, i) => 2 * i + 1);

  for (const [name, make] of [
    ["FlatF32Index", () => FlatF32Index.build(data, { dim })],
    ["RabitqPlusIndex", () => RabitqPlusIndex.build(data, { dim })],
    ["IvfRabitqIndex", () => IvfRabitqIndex.build(data, { dim, store: "f32", rerank: 40 })],
  ] as const) {
    test(`${name}: each search sees the version it started on, whole`, async () => {
      using index = make();
      const q = (i: number) => row(queries, dim, i);
      const before = Array.from({ length: 16 }, (_, i) => index.search(q(i), 20).map((h) => h.id));
      const early = Array.from({ length: 16 }, (_, i) => index.searchAsync(q(i), 20));
      for (let i = 0; i < odd.length; i += 250) index.removeBatch(odd.slice(i, i + 250));
      const late = Array.from({ length: 16 }, (_, i) => index.searchAsync(q(i), 20));
      expect(index.length).toBe(n / 2);
      const after = Array.from({ length: 16 }, (_, i) => index.search(q(i), 20).map((h) => h.id));
      expect((await Promise.all(early)).map((hits) => hits.map((h) => h.id))).toEqual(before);
      expect((await Promise.all(late)).map((hits) => hits.map((h) => h.id))).toEqual(after);
      expect(after.flat().every((id) => id % 2 === 0)).toBe(true);
    });
  }
});
