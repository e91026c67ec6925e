import { describe, expect, test } from "bun:test";
import { FlatF32Index, IvfRabitqIndex, recommend } from "../../src/index.ts";
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

test("recommend picks exact search for small sets, a store above 0.96, and validates input", () => {
  expect(recommend({ n: 5_000, dim: 128, recall: 0.9 })).toMatchObject({ variant: "FlatF32Index", buildOptions: {}, expectedRecall: 1 });
  expect(recommend({ n: 5_000, dim: 128, recall: 0.9 }).reason).toBe("5000 vectors are fewer than 10000: an exact scan reads 5000 × 128 floats per query and loses no recall");
  expect(recommend({ n: 1_000_000, dim: 100, recall: 0.99 }).buildOptions).toEqual({ targetRecall: 0.99, exBits: 4, store: "f16", rerank: 40 });
  expect(recommend({ n: 1_000_000, dim: 100, recall: 0.99, k: 20 }).buildOptions).toEqual({ targetRecall: 0.99, exBits: 4, store: "f16", rerank: 80 });
  expect(recommend({ n: 1_000_000, dim: 100, recall: 0.9 }).buildOptions).toEqual({ targetRecall: 0.9, exBits: 7 });
  expect(() => recommend({ n: 0, dim: 4, recall: 0.9 })).toThrow("n must be a positive integer, got 0");
  expect(() => recommend({ n: 10, dim: 8193, recall: 0.5 })).toThrow("dim must be an integer in 1..8192, got 8193");
  expect(() => recommend({ n: 10, dim: 4, recall: 1.5 })).toThrow("recall must be in (0, 1], got 1.5");
  expect(() => recommend({ n: 10, dim: 0, recall: 0.5 })).toThrow("dim must be an integer in 1..8192");
  expect(() => recommend({ n: 10, dim: 4, recall: 0.5, k: 0 })).toThrow("k must be a positive integer");
});

test("recommend says what was measured and what it extrapolated, naming n and dim", () => {
  const measured = recommend({ n: 100_000, dim: 100, recall: 0.93 });
  expect(measured.extrapolated).toBe(false);
  expect(measured.reason).toStartWith("IvfRabitqIndex built with targetRecall 0.93, exBits 7, codes only: the build calibrates nprobe (and the rerank, with a store) on held-out rows of your data");
  expect(measured.reason).toContain("measured on GloVe-100 (100k × 100, angular), 1,000 held-out queries");
  const scaled = recommend({ n: 341_500, dim: 384, recall: 0.99 });
  expect(scaled.extrapolated).toBe(true);
  expect(scaled.reason).toStartWith("IvfRabitqIndex built with targetRecall 0.99, exBits 4, with an f16 store and rerank up to 40:");
  expect(scaled.reason).toEndWith("; extrapolated, not measured: n=341500 instead of 100000, dim 384 instead of 100");
});

describe("IvfRabitqIndex recall against exact ground truth on GloVe-100 (held-out queries)", () => {
  const nq = 1000;
  test("recommend({ recall: 0.95 }) → targetRecall 0.95 reaches ≥ 0.95, and the calibration says what it measured", async () => {
    const ds = await glove();
    const plan = recommend({ n: ds.base.rows, dim: ds.base.dim, recall: 0.95 });
    expect(plan).toMatchObject({ variant: "IvfRabitqIndex", buildOptions: { targetRecall: 0.95, exBits: 7 }, expectedRecall: 0.95, extrapolated: false });
    using index = IvfRabitqIndex.build(ds.base.data, { dim: ds.base.dim, metric: "cosine", ...plan.buildOptions });
    const r = index.searchBatch(ds.queries.data.subarray(0, nq * ds.queries.dim), 10);
    expect(recallAtK(r.ids, 10, ds.truth, nq)).toBeGreaterThanOrEqual(0.95);
    const cal = index.calibration!;
    expect(cal.targetRecall).toBeCloseTo(0.95, 6);
    expect(cal.measuredRecall).toBeGreaterThanOrEqual(0.95);
    expect(cal.nprobe).toBe(index.nprobe);
    expect(cal.queries).toBeGreaterThan(200);
  }, 300_000);

  test("recommend({ recall: 0.99 }) → B4, an f16 store, rerank 40 and targetRecall 0.99 reach ≥ 0.99", async () => {
    const ds = await glove();
    const plan = recommend({ n: ds.base.rows, dim: ds.base.dim, recall: 0.99 });
    expect(plan.buildOptions).toEqual({ targetRecall: 0.99, exBits: 4, store: "f16", rerank: 40 });
    using index = IvfRabitqIndex.build(ds.base.data, { dim: ds.base.dim, metric: "cosine", ...plan.buildOptions });
    const r = index.searchBatch(ds.queries.data.subarray(0, nq * ds.queries.dim), 10);
    expect(recallAtK(r.ids, 10, ds.truth, nq)).toBeGreaterThanOrEqual(0.99);
    expect(index.store).toBe("f16");
  }, 300_000);
});
