import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FlatF32Index, InvalidArgument, IvfRabitqIndex, loadIndex, loadIndexAsync, PersistError, RabitqPlusIndex } from "../../src/index.ts";
import { randomVectors, tempDir } from "../support/helpers.ts";

const dim = 32;
const n = 2000;
const data = randomVectors(n, dim, 3);
const queries = randomVectors(30, dim, 4);
const options = { dim, metric: "cosine", store: "f16", rerank: 20, nlist: 16, seed: 5 } as const;

function savedIvf(): string {
  const path = join(tempDir(), "i.ivf");
  using index = IvfRabitqIndex.build(data, options);
  index.save(path);
  return path;
}

describe("load with mmap", () => {
  test("a mapped index answers like a copy load on 1 and 2 threads, sync and async, and reports mapped bytes", async () => {
    const path = savedIvf();
    using copy = IvfRabitqIndex.load(path);
    using mapped = IvfRabitqIndex.load(path, { mmap: true });
    using viaAsync = await IvfRabitqIndex.loadAsync(path, { mmap: true, verify: true });
    using any = loadIndex(path, { mmap: true });
    using anyAsync = await loadIndexAsync(path, { mmap: true });
    expect(any).toBeInstanceOf(IvfRabitqIndex);
    expect(copy.mappedBytes).toBe(0);
    expect(mapped.mappedBytes).toBeGreaterThan(0);
    expect(mapped.memoryBytes).toBeLessThan(copy.memoryBytes);
    // Nothing per row is copied (ids and their lookup order are read in place
    // too): the heap holds the centroids (16 lists × 64 padded f32) and rotation signs.
    expect(mapped.memoryBytes).toBeLessThan(n * 4);
    expect(mapped.mappedBytes).toBe(copy.memoryBytes - mapped.memoryBytes);
    expect([mapped.get(1999), mapped.get(2000), mapped.get(5)]).toEqual([copy.get(1999), undefined, copy.get(5)]);
    expect(mapped.toString()).toContain("mapped:");
    for (const threads of [1, 2]) {
      const want = copy.searchBatch(queries, 10, { threads });
      for (const index of [mapped, viaAsync, any, anyAsync]) {
        const got = index.searchBatch(queries, 10, { threads });
        expect(got.ids).toEqual(want.ids);
        expect(got.scores).toEqual(want.scores);
      }
    }
    expect(mapped.equals(copy)).toBe(true);
    expect(await mapped.searchAsync(queries.subarray(0, dim), 5)).toEqual(copy.search(queries.subarray(0, dim), 5));
  });

  test("adds, removals, compaction and a save over its own file work on a mapped index", () => {
    const path = savedIvf();
    using copy = IvfRabitqIndex.load(path);
    using mapped = IvfRabitqIndex.load(path, { mmap: true });
    const extra = randomVectors(100, dim, 8);
    const ids = Array.from({ length: 100 }, (_, i) => 10_000 + i);
    const mappedBefore = mapped.mappedBytes;
    for (const index of [copy, mapped]) {
      index.addBatch(extra, ids);
      index.removeBatch([1, 2, 3, 10_050]);
      index.upsert(7, extra.subarray(0, dim));
    }
    expect(mapped.mappedBytes).toBeLessThan(mappedBefore);
    expect(mapped.searchBatch(queries, 10).ids).toEqual(copy.searchBatch(queries, 10).ids);
    mapped.save(path);
    expect(mapped.searchBatch(queries, 10).scores).toEqual(copy.searchBatch(queries, 10).scores);
    using reloaded = IvfRabitqIndex.load(path, { mmap: true });
    using reloadedCopy = IvfRabitqIndex.load(path);
    expect(reloaded.equals(copy)).toBe(true);
    expect(reloaded.searchBatch(queries, 10).scores).toEqual(reloadedCopy.searchBatch(queries, 10).scores);
    for (const index of [copy, mapped]) index.compact();
    expect(mapped.mappedBytes).toBe(0);
    expect(mapped.searchBatch(queries, 10).ids).toEqual(copy.searchBatch(queries, 10).ids);
    expect(readdirSync(join(path, ".."))).toEqual(["i.ivf"]);
  });

  test("other classes, bad options and damaged files are typed errors", async () => {
    const dir = tempDir();
    const flat = join(dir, "flat");
    FlatF32Index.build(data, { dim }).save(flat);
    expect(() => FlatF32Index.load(flat, { mmap: true })).toThrow(/FlatF32Index files cannot be memory-mapped/);
    expect(() => FlatF32Index.load(flat, { mmap: true })).toThrow(InvalidArgument);
    expect(() => RabitqPlusIndex.load(flat, { mmap: true })).toThrow(/RabitqPlusIndex files cannot be memory-mapped/);
    expect(() => loadIndex(flat, { mmap: true })).toThrow(/only IvfRabitqIndex files can be memory-mapped/);
    expect(() => IvfRabitqIndex.load(flat, { mmap: true })).toThrow(PersistError);
    await expect(IvfRabitqIndex.loadAsync(flat, { mmap: true })).rejects.toThrow(PersistError);
    const path = savedIvf();
    expect(() => IvfRabitqIndex.load(path, { mmap: true, mapp: true } as never)).toThrow(/mapp.*mmap/);
    expect(() => IvfRabitqIndex.load(path, { mmap: "yes" } as never)).toThrow(/mmap must be a boolean, got/);
    expect(() => IvfRabitqIndex.load(path, { verify: true })).toThrow(/verify needs mmap/);
    const good = readFileSync(path);
    const bad = join(dir, "bad");
    for (const len of [0, 7, 100, 128, 500, good.length - 1]) {
      writeFileSync(bad, good.subarray(0, len));
      expect(() => IvfRabitqIndex.load(bad, { mmap: true })).toThrow(PersistError);
    }
    const flipped = Buffer.from(good);
    flipped[good.length - 5]! ^= 0x40; // inside the store: only verify reads it
    writeFileSync(bad, flipped);
    expect(() => IvfRabitqIndex.load(bad, { mmap: true, verify: true })).toThrow(/checksum mismatch/);
    expect(() => IvfRabitqIndex.load(bad)).toThrow(/checksum mismatch/);
    flipped[good.length - 5]! ^= 0x40;
    flipped[140]! ^= 1; // the section table: always checked
    writeFileSync(bad, flipped);
    expect(() => IvfRabitqIndex.load(bad, { mmap: true })).toThrow(/header checksum mismatch/);
  });
});
