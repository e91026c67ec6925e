/** Paths and loaders for the real data sets in ../shared/datasets (read-only, never copied). */
import { join } from "node:path";
import { parseFvecs, parseIdxImages, parseIvecs, type Matrix } from "../../src/formats.ts";

export const SHARED = process.env.RUVECTOR_SHARED ?? join(import.meta.dir, "..", "..", "..", "shared");
const DATASETS = join(SHARED, "datasets");

/** A data set with exact top-100 ground truth. */
export interface Dataset {
  name: string;
  metric: "l2" | "cosine";
  base: Matrix<Float32Array>;
  queries: Matrix<Float32Array>;
  truth: Matrix<Int32Array>;
}

async function bytes(path: string): Promise<Uint8Array> {
  return new Uint8Array(await Bun.file(path).arrayBuffer());
}

export async function glove(): Promise<Dataset> {
  const dir = join(DATASETS, "glove-100-angular-100k");
  return {
    name: "glove-100-angular (100k)",
    metric: "cosine",
    base: parseFvecs(await bytes(join(dir, "base.fvecs"))),
    queries: parseFvecs(await bytes(join(dir, "query.fvecs"))),
    truth: parseIvecs(await bytes(join(dir, "groundtruth.ivecs"))),
  };
}

export async function fashion(): Promise<Dataset> {
  const dir = join(DATASETS, "fashion-mnist-784-euclidean");
  return {
    name: "fashion-mnist-784",
    metric: "l2",
    base: parseIdxImages(await bytes(join(dir, "train-images-idx3-ubyte.gz"))),
    queries: parseIdxImages(await bytes(join(dir, "t10k-images-idx3-ubyte.gz"))),
    truth: parseIvecs(await bytes(join(dir, "groundtruth.ivecs"))),
  };
}

/** Mean recall@k of `ids` (queries × k, query-major) against the first k true neighbours. */
export function recallAtK(ids: Float64Array, k: number, truth: Matrix<Int32Array>, queries: number): number {
  let hit = 0;
  for (let q = 0; q < queries; q++) {
    const want = new Set(truth.data.subarray(q * truth.dim, q * truth.dim + k));
    for (let j = 0; j < k; j++) if (want.has(ids[q * k + j]!)) hit++;
  }
  return hit / (queries * k);
}

/** Filter selectivities the filtered-search tests and benchmarks measure: the share of rows each passes. */
export const SELECTIVITIES = [0.5, 0.1, 0.01, 0.001] as const;

/**
 * Tags for `rows` rows: bit s of a row is set with probability `SELECTIVITIES[s]`, from a hash of the row
 * number (independent of the data), so `{ tagsAll: 1n << s }` passes about that share of the rows.
 */
export function selectivityTags(rows: number): BigUint64Array {
  return BigUint64Array.from({ length: rows }, (_, i) => {
    const h = (Math.imul(i + 1, 2654435761) >>> 0) / 2 ** 32;
    return SELECTIVITIES.reduce((t, s, bit) => (h < s ? t | (1n << BigInt(bit)) : t), 0n);
  });
}
