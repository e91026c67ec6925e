/** {@link IvfRabitqIndex}: our own sub-linear engine (IVF lists over extended RaBitQ codes). */
import { Kind, STORES } from "./prepare.ts";
import type { Calibration, Store } from "./types.ts";
import { VectorIndex, type IvfOptionTypes } from "./vector-index.ts";

/**
 * A sub-linear index: k-means lists over rotated residuals coded with extended
 * RaBitQ, searched by a SIMD FastScan pass over the nearest `nprobe` lists,
 * with an optional f16/f32 store for a short exact rerank. Build it with
 * `targetRecall` and it picks its own `nprobe`:
 *
 * ```ts
 * using index = IvfRabitqIndex.build(vectors, { dim: 384, metric: "cosine", targetRecall: 0.95 });
 * index.search(query, 10);
 * ```
 *
 * Lists are trained on the rows of `build` (or of the first `addBatch` after
 * `create`); later rows join the nearest list. Files use the sectioned
 * `RVIVFRQ1` format (not readable by upstream `ruvector-rabitq`).
 */
export class IvfRabitqIndex extends VectorIndex {
  static override readonly kind = Kind.Ivf;
  declare readonly "~options": IvfOptionTypes;

  /** Number of inverted lists (0 until the first rows train an index made by `create`). */
  get nlist(): number {
    return this.nativeInfo().u32("params.nlist");
  }
  /** Code bits per component (1..8). */
  get exBits(): number {
    return this.nativeInfo().u32("params.ex_bits");
  }
  /** What the index keeps for its exact rerank. */
  get store(): Store {
    return STORES[this.nativeInfo().u32("params.store")]!;
  }
  /** Lists probed per search unless a search says otherwise. */
  get nprobe(): number {
    return this.nativeInfo().u32("params.nprobe");
  }
  /** Candidates reranked exactly from the store per search unless a search says otherwise (0 = codes only). */
  get rerank(): number {
    return this.nativeInfo().u32("params.rerank");
  }
  /** What `targetRecall` calibration measured at build, or undefined when the index was not calibrated. */
  get calibration(): Calibration | undefined {
    const info = this.nativeInfo();
    const queries = info.u32("calibration_queries");
    if (queries === 0) return undefined;
    return {
      targetRecall: info.f32("params.target_recall"),
      measuredRecall: info.f32("measured_recall"),
      nprobe: info.u32("params.nprobe"),
      rerank: info.u32("params.rerank"),
      queries,
    };
  }

  protected override describeTuning(): string {
    const store = this.store === "none" ? "" : `, store: "${this.store}", rerank: ${this.rerank}`;
    return `, nlist: ${this.nlist}, nprobe: ${this.nprobe}, exBits: ${this.exBits}${store}`;
  }
}
