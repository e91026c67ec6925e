import { expect, test } from "bun:test";
import { InvalidArgument, LocalBackend, RuLake } from "../../src/index.ts";
import { randomVectors } from "../support/helpers.ts";

test("rotationSeed that is not an integer is an InvalidArgument naming it", () => {
  for (const seed of [1.5, Number.NaN, -1, Number.POSITIVE_INFINITY]) {
    expect(() => RuLake.builder().rotationSeed(seed).build()).toThrow(new InvalidArgument(`rotationSeed must be an integer in 0..2^64-1, got ${seed}`));
  }
});

test("a huge k returns every vector, never allocating k slots", async () => {
  using lake = RuLake.builder().build();
  const backend = new LocalBackend("hot");
  const vectors = randomVectors(50, 8, 1);
  backend.upsert("docs", { ids: Array.from({ length: 50 }, (_, i) => i), vectors, dim: 8 });
  backend.upsert("more", { ids: Array.from({ length: 30 }, (_, i) => 100 + i), vectors: randomVectors(30, 8, 2), dim: 8 });
  lake.registerBackend(backend);
  const query = vectors.subarray(0, 8);
  const huge = 0x7fff_ffff;
  expect(lake.searchOne(["hot", "docs"], query, huge).length).toBe(50);
  expect((await lake.searchOneAsync(["hot", "docs"], query, huge)).length).toBe(50);
  expect(lake.searchFederated([["hot", "docs"], ["hot", "more"]], query, huge).length).toBe(80);
  expect((await lake.searchFederatedAsync([["hot", "docs"], ["hot", "more"]], query, huge)).length).toBe(80);
  const batch = lake.searchBatch(["hot", "docs"], vectors.subarray(0, 16), huge);
  expect(batch.map((hits) => hits.length)).toEqual([50, 50]);
  expect(batch[1]![0]!.id).toBe(1);
});
