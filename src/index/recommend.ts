/**
 * Picks an index variant and rerank factor for a recall target from recall
 * curves measured on real data (see bench/indexes.ts), not from theory.
 */
import { InvalidArgument } from "../errors.ts";

/** What to build for a workload. */
export interface Recommendation {
  /** The class to use. */
  variant: "FlatF32Index" | "RabitqPlusIndex";
  /** Rerank factor to pass to `build` (1 for the exact index). */
  rerankFactor: number;
  /** Recall@k the measurement behind this choice reached (1 for exact). */
  expectedRecall: number;
  /** Candidates reranked per query in the measurement behind this choice (0 when no measurement reached the target). */
  measuredCandidates: number;
  /** Candidates this choice reranks per query: k × rerankFactor (0 for exact). */
  candidates: number;
  /**
   * True when the workload differs from the measured one (100k × 100, k = 10), so the candidate pool
   * this choice rests on (and, for RabitqPlusIndex, `expectedRecall`) is an extrapolation, not a measurement.
   */
  extrapolated: boolean;
  /** Why this choice: what was measured, and what was extrapolated from it. */
  reason: string;
}

/** The workload to plan for. */
export interface RecommendOptions {
  /** Number of vectors. */
  n: number;
  /** Dimensions per vector. */
  dim: number;
  /** Target recall@k in (0, 1]. */
  recall: number;
  /** Hits per query (default 10). */
  k?: number;
}

/**
 * Recall@10 of RabitqPlusIndex (seed 42, padded to 128 bits) against rerank
 * factor on GloVe-100 angular, 100k vectors, 1,000 queries — the hardest real
 * set we measured (Fashion-MNIST needs ~10× fewer candidates for the same recall).
 */
const GLOVE_100K_RECALL: ReadonlyArray<readonly [rerankFactor: number, recall: number]> = [
  [5, 0.433], [10, 0.539], [20, 0.651], [30, 0.715], [40, 0.758], [60, 0.809], [100, 0.868],
  [200, 0.932], [250, 0.946], [300, 0.958], [350, 0.965], [400, 0.971], [500, 0.98], [700, 0.989], [1000, 0.9945],
];
const MEASURED_N = 100_000;
const MEASURED_DIM = 100;
const MEASURED_K = 10;

/**
 * Recommends a variant and rerank factor reaching `recall` at `k`. The exact
 * index wins when the candidate pool would cover a quarter of the data, or the
 * target is beyond what 1-bit codes reached. Candidate pools are scaled
 * linearly with n beyond the measured 100k (estimator rank error grows with n);
 * any workload other than the measured one is reported as `extrapolated`.
 */
export function recommend(options: RecommendOptions): Recommendation {
  const { n, dim, recall } = options;
  const k = options.k ?? MEASURED_K;
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgument(`n must be a positive integer, got ${n}`);
  if (!Number.isInteger(dim) || dim < 1 || dim > 8192) throw new InvalidArgument(`dim must be an integer in 1..8192, got ${dim}`);
  if (!(recall > 0 && recall <= 1)) throw new InvalidArgument(`recall must be in (0, 1], got ${recall}`);
  if (!Number.isInteger(k) || k < 1) throw new InvalidArgument(`k must be a positive integer, got ${k}`);
  const exact: Recommendation = { variant: "FlatF32Index", rerankFactor: 1, expectedRecall: 1, measuredCandidates: 0, candidates: 0, extrapolated: false, reason: "" };
  const row = GLOVE_100K_RECALL.find(([, r]) => r >= recall);
  if (!row) return { ...exact, reason: `recall ${recall} is beyond what 1-bit codes reached (0.9945 at rerank 1000); use exact search` };
  const measuredCandidates = row[0] * MEASURED_K;
  const candidates = Math.ceil(measuredCandidates * Math.max(1, n / MEASURED_N));
  const rerankFactor = Math.ceil(candidates / k);
  const measured = `measured: reranking ${measuredCandidates} candidates reached recall@10 ${row[1]} on GloVe-100 (100k × 100, angular)`;
  const differences = [
    n > MEASURED_N ? `n=${n}: pool scaled linearly to ${candidates} candidates` : "",
    dim !== MEASURED_DIM ? `dim ${dim} instead of ${MEASURED_DIM}` : "",
    k !== MEASURED_K ? `k=${k} instead of 10` : "",
  ].filter(Boolean);
  const extrapolated = differences.length > 0;
  const basis = { measuredCandidates, candidates: 0, extrapolated };
  const because = extrapolated ? ` (${measured}; extrapolated, not measured: ${differences.join(", ")})` : ` (${measured})`;
  if (rerankFactor > 1024) {
    return { ...exact, ...basis, reason: `recall ${recall} at n=${n} needs a rerank factor of ${rerankFactor}, above the maximum of 1024${because}` };
  }
  if (candidates * 4 >= n) {
    return { ...exact, ...basis, reason: `${candidates} reranked candidates would cover ${((100 * candidates) / n).toFixed(0)}% of ${n} vectors; exact search costs about the same${because}` };
  }
  return {
    variant: "RabitqPlusIndex",
    rerankFactor,
    expectedRecall: row[1],
    measuredCandidates,
    candidates: rerankFactor * k,
    extrapolated,
    reason: extrapolated ? `${measured}; extrapolated, not measured: ${differences.join(", ")}` : measured,
  };
}
