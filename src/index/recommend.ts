/**
 * Picks an index class and its build options for a recall target, from what
 * was measured on real data (see bench/), not from theory.
 */
import { InvalidArgument } from "../errors.ts";
import type { Store } from "./types.ts";

/** What to build for a workload. */
export interface Recommendation {
  /** The class to use. */
  variant: "FlatF32Index" | "IvfRabitqIndex";
  /** Options to pass to that class's `build` besides `dim`, `metric` and `ids`. */
  buildOptions: { targetRecall?: number; exBits?: number; store?: Store; rerank?: number; rerankFactor?: number };
  /**
   * Recall@k this choice is expected to reach: 1 for exact; for IvfRabitqIndex the target, which
   * its build calibrates for on held-out rows of your own data (read it back from `index.calibration`).
   */
  expectedRecall: number;
  /** True when the workload differs from the measured ones (100k × 100, k = 10), so the evidence is an extrapolation. */
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

/** Below this many vectors a flat scan answers in well under a millisecond per query at dim ≤ 128. */
const EXACT_BELOW = 10_000;
/** The collection size from which {@link recommend} picks IvfRabitqIndex (the lake's `auto` engine follows it). */
export const IVF_FROM_ROWS = EXACT_BELOW;
/** Above this target, codes alone plateau: keep an f16 store and rerank a short list exactly. */
const STORE_ABOVE = 0.96;
const MEASURED_N = 100_000;
const MEASURED_DIM = 100;
const MEASURED_K = 10;
/** What IvfRabitqIndex reached on GloVe-100 (100k × 100, angular) over 1,000 held-out queries (test/index/ivf.test.ts, bench/). */
const MEASURED =
  "measured on GloVe-100 (100k × 100, angular), 1,000 held-out queries: targetRecall 0.95 reached recall@10 ≥ 0.95 with B7 codes only, " +
  "targetRecall 0.99 reached ≥ 0.99 with B4 codes, an f16 store and rerank 40";

/**
 * Code bits per component with codes only. B6 would save 16 bytes per vector, but on GloVe-100 its recall
 * plateaus just above 0.95 (0.966 probing every list), so calibration to 0.95 probes most lists; B7 stays.
 */
const CODES_ONLY_BITS = 7;
/** Code bits with a store: the exact rerank fixes the order, so B4 codes only have to find the candidates. */
const STORED_BITS = 4;

/**
 * IvfRabitqIndex options reaching `recall` at `k`: `targetRecall` and the code width, plus an f16 store and a
 * short exact rerank above what codes alone reach; `rerank` is the deepest the build's calibration tries (it keeps
 * the cheapest depth that reaches the target).
 */
export function ivfBuildOptions(recall: number, k = MEASURED_K): { targetRecall: number; exBits: number; store?: Store; rerank?: number } {
  return recall > STORE_ABOVE
    ? { targetRecall: recall, exBits: STORED_BITS, store: "f16", rerank: Math.max(40, 4 * k) }
    : { targetRecall: recall, exBits: CODES_ONLY_BITS };
}

/**
 * Recommends a class and build options reaching `recall` at `k`. Small sets
 * get the exact index; everything else gets {@link IvfRabitqIndex} built with
 * `targetRecall`, which measures the recall on the user's own rows at build
 * rather than trusting a curve from another data set.
 */
export function recommend(options: RecommendOptions): Recommendation {
  const { n, dim, recall } = options;
  const k = options.k ?? MEASURED_K;
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgument(`n must be a positive integer, got ${n}`);
  if (!Number.isInteger(dim) || dim < 1 || dim > 8192) throw new InvalidArgument(`dim must be an integer in 1..8192, got ${dim}`);
  if (!(recall > 0 && recall <= 1)) throw new InvalidArgument(`recall must be in (0, 1], got ${recall}`);
  if (!Number.isInteger(k) || k < 1) throw new InvalidArgument(`k must be a positive integer, got ${k}`);
  if (n < EXACT_BELOW) {
    return {
      variant: "FlatF32Index",
      buildOptions: {},
      expectedRecall: 1,
      extrapolated: false,
      reason: `${n} vectors are fewer than ${EXACT_BELOW}: an exact scan reads ${n} × ${dim} floats per query and loses no recall`,
    };
  }
  const buildOptions = ivfBuildOptions(recall, k);
  const stored = buildOptions.store !== undefined;
  const differences = [
    n !== MEASURED_N ? `n=${n} instead of ${MEASURED_N}` : "",
    dim !== MEASURED_DIM ? `dim ${dim} instead of ${MEASURED_DIM}` : "",
    k !== MEASURED_K ? `k=${k} instead of 10 (calibration measures recall@10)` : "",
  ].filter(Boolean);
  const extrapolated = differences.length > 0;
  const how = stored
    ? `targetRecall ${recall}, exBits ${buildOptions.exBits}, with an f16 store and rerank up to ${buildOptions.rerank}`
    : `targetRecall ${recall}, exBits ${buildOptions.exBits}, codes only`;
  const reason =
    `IvfRabitqIndex built with ${how}: the build calibrates nprobe (and the rerank, with a store) on held-out rows of your data (index.calibration reports what it measured); ${MEASURED}` +
    (extrapolated ? `; extrapolated, not measured: ${differences.join(", ")}` : "");
  return { variant: "IvfRabitqIndex", buildOptions, expectedRecall: recall, extrapolated, reason };
}
