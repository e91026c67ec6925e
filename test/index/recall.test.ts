import { expect, test } from "bun:test";
import { FlatF32Index, RabitqPlusIndex, recommend } from "../../src/index.ts";
import { fashion, glove, recallAtK } from "../support/datasets.ts";

const QUERIES = 300;

test("FlatF32Index reproduces the stored ground truth of GloVe-100 exactly", async () => {
  const ds = await glove();
  using index = FlatF32Index.build(ds.base.data, { dim: ds.base.dim, metric: "cosine" });
  const r = index.searchBatch(ds.queries.data.subarray(0, QUERIES * ds.queries.dim), 10);
  expect(recallAtK(r.ids, 10, ds.truth, QUERIES)).toBe(1);
}, 120_000);

test("FlatF32Index reproduces the stored ground truth of Fashion-MNIST exactly", async () => {
  const ds = await fashion();
  using index = FlatF32Index.build(ds.base.data, { dim: ds.base.dim });
  const r = index.searchBatch(ds.queries.data.subarray(0, QUERIES * ds.queries.dim), 10);
  expect(recallAtK(r.ids, 10, ds.truth, QUERIES)).toBe(1);
  for (let q = 0; q < QUERIES; q++) {
    expect(r.ids.subarray(q * 10, q * 10 + 10)).toEqual(Float64Array.from(ds.truth.data.subarray(q * 100, q * 100 + 10)));
  }
}, 120_000);

test("recommend({ recall: 0.95 }) reaches recall@10 ≥ 0.95 on GloVe-100 (cosine)", async () => {
  const ds = await glove();
  const plan = recommend({ n: ds.base.rows, dim: ds.base.dim, recall: 0.95 });
  expect(plan.variant).toBe("RabitqPlusIndex");
  using index = RabitqPlusIndex.build(ds.base.data, { dim: ds.base.dim, metric: "cosine", rerankFactor: plan.rerankFactor });
  const nq = 1000;
  const r = index.searchBatch(ds.queries.data.subarray(0, nq * ds.queries.dim), 10);
  expect(recallAtK(r.ids, 10, ds.truth, nq)).toBeGreaterThanOrEqual(0.95);
}, 120_000);

test("recommend falls back to exact search where 1-bit codes cannot help, and validates input", () => {
  expect(recommend({ n: 5_000, dim: 128, recall: 0.9 }).variant).toBe("FlatF32Index");
  expect(recommend({ n: 100_000, dim: 100, recall: 0.999 }).reason).toContain("beyond what 1-bit codes reached");
  expect(recommend({ n: 10_000_000, dim: 100, recall: 0.95 }).reason).toContain("above the maximum of 1024");
  expect(recommend({ n: 1_000_000, dim: 100, recall: 0.8 })).toMatchObject({ variant: "RabitqPlusIndex", expectedRecall: 0.809 });
  expect(() => recommend({ n: 0, dim: 4, recall: 0.9 })).toThrow("n must be a positive integer, got 0");
  expect(() => recommend({ n: 10, dim: 8193, recall: 0.5 })).toThrow("dim must be an integer in 1..8192, got 8193");
  expect(() => recommend({ n: 10, dim: 4, recall: 1.5 })).toThrow("recall must be in (0, 1], got 1.5");
  expect(() => recommend({ n: 10, dim: 0, recall: 0.5 })).toThrow("dim must be an integer in 1..8192");
  expect(() => recommend({ n: 10, dim: 4, recall: 0.5, k: 0 })).toThrow("k must be a positive integer");
});

test("recommend says what was measured and what it extrapolated, naming n and dim", () => {
  const measured = recommend({ n: 100_000, dim: 100, recall: 0.93 });
  expect(measured).toMatchObject({ variant: "RabitqPlusIndex", rerankFactor: 200, measuredCandidates: 2000, candidates: 2000, extrapolated: false });
  expect(measured.reason).toBe("measured: reranking 2000 candidates reached recall@10 0.932 on GloVe-100 (100k × 100, angular)");
  const scaled = recommend({ n: 341_500, dim: 384, recall: 0.93 });
  expect(scaled).toMatchObject({ measuredCandidates: 2000, candidates: 6830, rerankFactor: 683, extrapolated: true });
  expect(scaled.reason).toBe(
    "measured: reranking 2000 candidates reached recall@10 0.932 on GloVe-100 (100k × 100, angular); " +
      "extrapolated, not measured: n=341500: pool scaled linearly to 6830 candidates, dim 384 instead of 100",
  );
  expect(recommend({ n: 100_000, dim: 128, recall: 0.93 }).extrapolated).toBe(true);
  const fallback = recommend({ n: 1_000_000, dim: 768, recall: 0.95 });
  expect(fallback).toMatchObject({ variant: "FlatF32Index", measuredCandidates: 3000, candidates: 0, extrapolated: true });
  expect(fallback.reason).toContain("needs a rerank factor of 3000, above the maximum of 1024 (measured: reranking 3000 candidates");
  expect(fallback.reason).toContain("extrapolated, not measured: n=1000000: pool scaled linearly to 30000 candidates, dim 768 instead of 100)");
});
