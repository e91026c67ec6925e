/**
 * Filtered lake searches: `{ filter }` on searchOne, searchFederated, their
 * async forms and searchBatch, by each backend's own ids, on both engines;
 * exact-flat ground truth over the rows the filter passes; typed errors.
 */
import { describe, expect, test } from "bun:test";
import { FlatF32Index, InvalidArgument, LocalBackend, RuLake, type CollectionKey } from "../../src/index.ts";
import { randomVectors, row } from "../support/helpers.ts";

const DIM = 16;
const N = 3000;
const vectors = randomVectors(N, DIM, 11);
const ids = Array.from({ length: N }, (_, i) => 5000 + i);

function lake(engine: "plus" | "ivf"): RuLake {
  const local = new LocalBackend("hot");
  local.putCollection("docs", { ids, vectors });
  local.putCollection("more", { ids: ids.map((id) => id + N), vectors });
  const l = RuLake.builder().engine(engine).build();
  l.registerBackend(local);
  return l;
}

const DOCS: CollectionKey = ["hot", "docs"];
const MORE: CollectionKey = ["hot", "more"];

/** The exact top k among the rows whose ids `allowed` passes. */
function exactAmong(query: Float32Array, k: number, allowed: (id: number) => boolean): number[] {
  const keep = ids.filter(allowed);
  const rows = new Float32Array(keep.length * DIM);
  keep.forEach((id, i) => rows.set(row(vectors, DIM, id - 5000), i * DIM));
  using flat = FlatF32Index.build(rows, { dim: DIM, ids: keep });
  return flat.search(query, k).map((h) => h.id);
}

describe.each(["plus", "ivf"] as const)("%s engine", (engine) => {
  test("allow and deny lists restrict searchOne, its async form and searchBatch to the backend's ids", async () => {
    using l = lake(engine);
    const q = row(vectors, DIM, 7);
    const allow = [5007, 5100, 5200, 5300, 99_999];
    const got = l.searchOne(DOCS, q, 10, { filter: allow }).map((h) => h.id);
    expect(new Set(got)).toEqual(new Set([5007, 5100, 5200, 5300]));
    expect(got[0]).toBe(5007);
    expect((await l.searchOneAsync(DOCS, q, 10, { filter: new Set(allow) })).map((h) => h.id)).toEqual(got);
    const denied = l.searchOne(DOCS, q, 10, { filter: { deny: [5007] } }).map((h) => h.id);
    expect(denied).not.toContain(5007);
    expect(denied.length).toBe(10);
    expect(l.searchOne(DOCS, q, 5, { filter: [] })).toEqual([]);
    expect(l.searchOne(DOCS, q, 5, { filter: [5123] }).map((h) => h.id)).toEqual([5123]);
    const batch = l.searchBatch(DOCS, new Float32Array([...q, ...row(vectors, DIM, 8)]), 3, { filter: [[5007, 5008], { deny: [5008] }] });
    expect(new Set(batch[0]!.map((h) => h.id))).toEqual(new Set([5007, 5008]));
    expect(batch[1]!.length).toBe(3);
    expect(batch[1]!.map((h) => h.id)).not.toContain(5008);
  });

  test("a selective filter keeps recall: the top 10 among 1 % of the rows is the exact one", () => {
    using l = lake(engine);
    const allowed = (id: number) => id % 100 === 3;
    const allow = ids.filter(allowed);
    let hits = 0;
    for (let qi = 0; qi < 20; qi++) {
      const q = row(vectors, DIM, 1000 + qi);
      const want = new Set(exactAmong(q, 10, allowed));
      const got = l.searchOne(DOCS, q, 10, { filter: allow });
      expect(got.every((h) => allowed(h.id))).toBe(true);
      hits += got.filter((h) => want.has(h.id)).length;
    }
    expect(hits / 200).toBeGreaterThanOrEqual(0.98);
  });

  test("a federated search applies one filter to every collection", async () => {
    using l = lake(engine);
    const q = row(vectors, DIM, 42);
    const filter = { allow: [5042, 5042 + N, 5043] };
    const got = l.searchFederated([DOCS, MORE], q, 10, { filter });
    expect(got.map((h) => `${h.collection}:${h.id}`).sort()).toEqual(["docs:5042", "docs:5043", `more:${5042 + N}`].sort());
    const gotAsync = await l.searchFederatedAsync([DOCS, MORE], q, 10, { filter });
    expect(gotAsync).toEqual(got);
    const denied = l.searchFederated([DOCS, MORE], q, 4, { filter: { deny: [5042, 5042 + N] } });
    expect(denied.map((h) => h.id)).not.toContain(5042);
    expect(denied.map((h) => h.id)).not.toContain(5042 + N);
  });
});

test("lake filters: tag masks, wrong types and bad ids are InvalidArguments naming the value", () => {
  using l = lake("plus");
  const q = row(vectors, DIM, 0);
  expect(() => l.searchOne(DOCS, q, 3, { filter: { tagsAny: 1n } } as never)).toThrow(
    new InvalidArgument("filter.tagsAny: lake rows carry no tags; filter them by id ({ allow } or { deny })"),
  );
  expect(() => l.searchBatch(DOCS, q, 3, { filter: [{ tagsNone: 2n }] } as never)).toThrow("filter.tagsNone: lake rows carry no tags");
  expect(() => l.searchOne(DOCS, q, 3, { filter: "5000" } as never)).toThrow(InvalidArgument);
  expect(() => l.searchOne(DOCS, q, 3, { filter: [-1] })).toThrow("filter.allow[0] = -1 (number) is not an id");
  expect(() => l.searchOne(DOCS, q, 3, { filter: [1.5] })).toThrow("filter.allow[0] = 1.5 (number) is not an id");
  expect(() => l.searchOne(DOCS, q, 3, { fitler: [1] } as never)).toThrow('unknown option "fitler" in searchOne options; did you mean "filter"?');
  expect(() => l.searchFederated([DOCS], q, 3, { filter: { allow: [1], deny: [2] } })).toThrow("gives both allow and deny");
  expect(() => l.searchBatch(DOCS, new Float32Array([...q, ...q]), 3, { filter: [[1], [2], [3]] })).toThrow("got 3 filters for 2 queries");
});
