import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FlatF32Index, IvfRabitqIndex, RabitqAsymIndex, RabitqIndex, RabitqPlusIndex, type SearchFilter, type VectorIndex } from "../../src/index.ts";
import { glove, SELECTIVITIES, selectivityTags } from "../support/datasets.ts";

const DIM = 16;
const N = 600;
const dir = mkdtempSync(join(tmpdir(), "ruv-filter-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function vectors(n: number, seed = 1): Float32Array {
  let x = seed;
  return Float32Array.from({ length: n * DIM }, () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31 - 0.5;
  });
}

/** Tag bit i % 4 on row i. */
const TAGS = BigUint64Array.from({ length: N }, (_, i) => 1n << BigInt(i % 4));
const BASE = vectors(N);
const CLASSES = [
  ["FlatF32Index", (tags?: BigUint64Array) => FlatF32Index.build(BASE, { dim: DIM, tags })],
  ["RabitqIndex", (tags?: BigUint64Array) => RabitqIndex.build(BASE, { dim: DIM, tags })],
  ["RabitqPlusIndex", (tags?: BigUint64Array) => RabitqPlusIndex.build(BASE, { dim: DIM, tags })],
  ["RabitqAsymIndex", (tags?: BigUint64Array) => RabitqAsymIndex.build(BASE, { dim: DIM, tags })],
  ["IvfRabitqIndex", (tags?: BigUint64Array) => IvfRabitqIndex.build(BASE, { dim: DIM, nlist: 16, tags })],
  ["IvfRabitqIndex f16", (tags?: BigUint64Array) => IvfRabitqIndex.build(BASE, { dim: DIM, nlist: 16, store: "f16", tags })],
] as const;
const query = BASE.subarray(0, DIM);

describe.each(CLASSES)("%s filters", (_name, build) => {
  test("allow-lists of every input type, deny-lists and tag masks restrict the hits", async () => {
    using index = build(TAGS);
    expect(index.search(query, 10, { filter: [123] }).map((h) => h.id)).toEqual([123]);
    for (const allow of [new Uint32Array([5, 9, 77]), new BigUint64Array([5n, 9n, 77n]), [5, 9, 77], new Set([5, 9, 77])]) {
      expect(index.search(query, 10, { filter: allow }).map((h) => h.id).sort((a, b) => a - b)).toEqual([5, 9, 77]);
    }
    expect(index.search(query, 10, { filter: { allow: [5, 10_000_000] } }).map((h) => h.id)).toEqual([5]);
    expect(index.search(query, 10, { filter: [] })).toEqual([]);
    expect(index.search(query, 10, { filter: { tagsAll: 1n << 40n } })).toEqual([]);
    const denied = index.search(query, 10, { filter: { deny: [0, 1, 2] } }).map((h) => h.id);
    expect(denied).toHaveLength(10);
    expect(denied.some((id) => id < 3)).toBe(false);
    const odd = index.search(query, 10, { filter: { tagsAny: 0b1010n } });
    expect(odd).toHaveLength(10);
    expect(odd.every((h) => h.id % 2 === 1)).toBe(true);
    const onlyThree = index.search(query, 10, { filter: { tagsNone: 0b0111n, deny: [3] } });
    expect(onlyThree.every((h) => h.id % 4 === 3 && h.id !== 3)).toBe(true);
    const async = await index.searchAsync(query, 10, { filter: { tagsAny: 0b1010n } });
    expect(async.map((h) => h.id)).toEqual(odd.map((h) => h.id));
  });

  test("searchBatch takes one filter for all queries or one per query; short queries leave -1 slots", async () => {
    using index = build(TAGS);
    const qs = BASE.subarray(0, 3 * DIM);
    const shared = index.searchBatch(qs, 5, { filter: { tagsAny: 1n } });
    expect(Array.from(shared.ids).every((id) => id % 4 === 0)).toBe(true);
    const per: SearchFilter[] = [[7], { deny: [1] }, { tagsAll: 0b10n }];
    for (const r of [index.searchBatch(qs, 5, { filter: per }), await index.searchBatchAsync(qs, 5, { filter: per })]) {
      expect(r.hits(0).map((h) => h.id)).toEqual([7]);
      expect(Array.from(r.ids.subarray(1, 5))).toEqual([-1, -1, -1, -1]);
      expect(r.scores[1]).toBe(Infinity);
      expect(r.hits(1).some((h) => h.id === 1)).toBe(false);
      expect(r.hits(2).every((h) => h.id % 4 === 1)).toBe(true);
    }
    const numbers = index.searchBatch(qs, 5, { filter: [4, 8] });
    expect(numbers.hits(2).map((h) => h.id).sort()).toEqual([4, 8]);
    expect(() => index.searchBatch(qs, 5, { filter: [[1], [2]] })).toThrow("got 2 filters for 3 queries");
  });

  test("tags round-trip through save/load and survive remove, upsert and compact", async () => {
    using index = build(TAGS);
    index.removeBatch([1, 2]);
    index.upsert(4, BASE.subarray(4 * DIM, 5 * DIM), 1n << 63n);
    index.add(5000, BASE.subarray(0, DIM), 0xffn);
    const path = join(dir, `${_name.replace(" ", "-")}.idx`);
    await index.saveAsync(path);
    const Class = index.constructor as typeof VectorIndex & { load(p: string): VectorIndex };
    using back = Class.load(path);
    for (const i of [back, index]) {
      expect(i.tagsOf(3)).toBe(8n);
      expect(i.tagsOf(4)).toBe(1n << 63n);
      expect(i.tagsOf(5000)).toBe(0xffn);
      expect(i.tagsOf(1)).toBeUndefined();
      expect(i.search(query, 10, { filter: { tagsAll: 1n << 63n } }).map((h) => h.id)).toEqual([4]);
    }
    expect(back.tags()).toEqual(index.tags());
    expect(back.tags()[0]).toBe(1n);
    index.compact();
    expect(index.tagsOf(599)).toBe(8n);
    expect(index.search(query, 3, { filter: [1, 2] })).toEqual([]);
  });

  test("an index built without tags has tags 0; later writes may add them", () => {
    using index = build();
    expect(index.tagsOf(10)).toBe(0n);
    expect(index.search(query, 10, { filter: { tagsAny: 1n } })).toEqual([]);
    index.addBatch(BASE.subarray(0, 2 * DIM), [900, 901], new BigUint64Array([1n, 2n]));
    expect(index.search(query, 10, { filter: { tagsAny: 3n } }).map((h) => h.id).sort()).toEqual([900, 901]);
  });
});

describe("filter and tag errors name the value", () => {
  const index = FlatF32Index.build(BASE, { dim: DIM, tags: TAGS });
  afterAll(() => index.close());
  test.each([
    ["a string", "12", 'filter must be an id list (Uint32Array, BigUint64Array, number[] or Set<number>) or { allow | deny, tagsAny, tagsAll, tagsNone }, got "12" (string)'],
    ["a number", 5, "filter must be an id list"],
    ["a negative id", [1, -2], "filter.allow[1] = -2 (number) is not an id (an integer in 0..2^53-1)"],
    ["a fractional id", new Set([1.5]), "filter.allow[0] = 1.5 (number) is not an id"],
    ["an unsafe id", { deny: [2 ** 53] }, "filter.deny[0] = 9007199254740992 (number) is not an id"],
    ["a misspelled key", { tagsAnny: 1n }, "tagsAny"],
    ["allow and deny", { allow: [1], deny: [2] }, "filter gives both allow and deny"],
    ["a number mask", { tagsAny: 3 }, "filter.tagsAny must be a bigint in 0n..2n**64n-1n (64 tag bits), got 3 (number)"],
    ["a mask too wide", { tagsNone: 1n << 64n }, "filter.tagsNone must be a bigint in 0n..2n**64n-1n (64 tag bits), got 18446744073709551616n (bigint)"],
    ["an empty tagsAny", { tagsAny: 0n }, "filter.tagsAny is 0n, which no vector can match"],
    ["an id list of strings", { allow: "1,2" }, 'filter.allow must be a Uint32Array, BigUint64Array, number[] or Set<number>, got "1,2" (string)'],
  ])("%s", (_what, filter, message) => {
    expect(() => index.search(query, 3, { filter: filter as never })).toThrow(message);
  });
  test("tags of the wrong type or length", async () => {
    expect(() => FlatF32Index.build(BASE, { dim: DIM, tags: new BigUint64Array(3) })).toThrow(`got 3 tags for ${N} vectors (one u64 per vector)`);
    expect(() => FlatF32Index.build(BASE, { dim: DIM, tags: [1n] as never })).toThrow("tags must be a BigUint64Array (64 tag bits per vector), got [1] (Array of 1)");
    expect(FlatF32Index.buildAsync(BASE, { dim: DIM, tags: new Uint32Array(N) as never })).rejects.toThrow("tags must be a BigUint64Array");
    expect(() => index.addBatch(BASE.subarray(0, DIM), [7000], new BigUint64Array(2))).toThrow("got 2 tags for 1 vectors");
    expect(() => index.add(7001, query, 1 as never)).toThrow("tags must be a bigint (64 tag bits), got 1 (number)");
    expect(() => index.upsert(7001, query, -1n)).toThrow("tags must be a bigint in 0n..2n**64n-1n (64 tag bits), got -1n");
  });
});

test("a filtered searchAsync while remove runs from JS never crashes and sees a consistent snapshot", async () => {
  using index = IvfRabitqIndex.build(BASE, { dim: DIM, nlist: 16, tags: TAGS });
  const searches: Promise<{ id: number }[]>[] = [];
  for (let i = 0; i < 200; i++) {
    searches.push(index.searchAsync(query, 5, { filter: { tagsAny: 0b11n, deny: [i] } }));
    if (i % 2 === 0) index.remove(i);
  }
  for (const hits of await Promise.all(searches)) {
    expect(hits.length).toBeGreaterThan(0);
    expect(hits.every((h) => h.id % 4 < 2)).toBe(true);
  }
  expect(index.search(query, 300, { filter: { tagsAny: 0b11n } }).some((h) => h.id < 200 && h.id % 2 === 0)).toBe(false);
});

describe("selective filters keep recall on GloVe-100 (20k rows, recall@10 against exact filtered truth)", () => {
  const n = 20_000;
  const nq = 100;
  function recall(got: VectorIndex, truth: FlatF32Index, queries: Float32Array, dim: number, filter?: SearchFilter): number {
    let hit = 0;
    let total = 0;
    for (let q = 0; q < nq; q++) {
      const v = queries.subarray(q * dim, (q + 1) * dim);
      const want = new Set(truth.search(v, 10, filter === undefined ? {} : { filter }).map((h) => h.id));
      hit += got.search(v, 10, filter === undefined ? {} : { filter }).filter((h) => want.has(h.id)).length;
      total += want.size;
    }
    return hit / total;
  }

  test.each([
    ["IvfRabitqIndex", (base: Float32Array, dim: number, tags: BigUint64Array) => IvfRabitqIndex.build(base, { dim, metric: "cosine", tags })],
    ["RabitqPlusIndex", (base: Float32Array, dim: number, tags: BigUint64Array) => RabitqPlusIndex.build(base, { dim, metric: "cosine", tags })],
  ] as const)("%s at 50, 10, 1 and 0.1 percent selectivity stays within 0.02 of unfiltered", async (_name, build) => {
    const ds = await glove();
    const dim = ds.base.dim;
    const base = ds.base.data.subarray(0, n * dim);
    const queries = ds.queries.data.subarray(0, nq * dim);
    const tags = selectivityTags(n);
    using exact = FlatF32Index.build(base, { dim, metric: "cosine", tags });
    using index = build(base, dim, tags);
    const unfiltered = recall(index, exact, queries, dim);
    for (let bit = 0; bit < SELECTIVITIES.length; bit++) {
      const filtered = recall(index, exact, queries, dim, { tagsAll: 1n << BigInt(bit) });
      expect(filtered).toBeGreaterThanOrEqual(unfiltered - 0.02);
    }
    const allow = Array.from({ length: 200 }, (_, i) => i * 97);
    expect(recall(index, exact, queries, dim, allow)).toBeGreaterThanOrEqual(unfiltered - 0.02);
  }, 60_000);
});
