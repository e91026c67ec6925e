/** Benchmark data: the real sets in ../shared/datasets and upstream's synthetic recipe. */
import { FlatF32Index } from "../src/index.ts";
import type { Matrix } from "../src/formats.ts";
import { fashion, glove, type Dataset } from "../test/support/datasets.ts";
import { rng } from "../test/support/helpers.ts";

export { fashion, glove, type Dataset };

/**
 * ruvector-rabitq's demo generator (100 centroids in U(-2,2)^D, σ = 0.6,
 * queries from the same prior), with exact top-100 ground truth from FlatF32Index.
 * Distributionally the same as upstream's, not bit-identical (different RNG).
 */
export function synthetic(n = 100_000, dim = 128, nq = 200, seed = 91): Dataset {
  const next = rng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  const centroids = Float32Array.from({ length: 100 * dim }, () => next() * 4 - 2);
  const points = new Float32Array((n + nq) * dim);
  for (let i = 0; i < n + nq; i++) {
    const c = Math.floor(next() * 100);
    for (let j = 0; j < dim; j++) points[i * dim + j] = centroids[c * dim + j]! + 0.6 * gauss();
  }
  const base = { data: points.subarray(0, n * dim), rows: n, dim };
  const queries = { data: points.slice(n * dim), rows: nq, dim };
  using flat = FlatF32Index.build(base.data, { dim });
  const gt = flat.searchBatch(queries.data, 100);
  const truth: Matrix<Int32Array> = { data: Int32Array.from(gt.ids), rows: nq, dim: 100 };
  return { name: `synthetic ${n / 1000}k × ${dim} (100 clusters, σ 0.6)`, metric: "l2", base, queries, truth };
}
