/** The public shapes of index options and results. */
import { InvalidArgument, type UnknownId } from "../errors.ts";
import type { SearchFilter } from "./filter.ts";

/** Distance metric. `cosine` normalises vectors on the way in and reports cosine distance (1 − cos). */
export type Metric = "l2" | "cosine";

/** Ids for a batch of vectors: non-negative integers up to 2^53 − 1, unique within an index. */
export type IdsInput = Uint32Array | BigUint64Array | readonly number[];

/** Options of `remove` and `removeBatch`. */
export interface RemoveOptions {
  /** Skip ids that are not in the index instead of throwing {@link UnknownId}. Default false. */
  ignoreMissing?: boolean;
}

/** Options of `load`, `loadAsync`, `loadIndex` and `loadIndexAsync`. */
export interface LoadOptions {
  /**
   * Map an {@link IvfRabitqIndex} file read-only and search it in place
   * instead of copying it into memory: it opens in milliseconds, pages come in
   * on first touch and are shared with the page cache (`mappedBytes`). The
   * header, section table and every size are checked; section CRCs and
   * contents only with `verify`. Adds, removals and compaction copy what they
   * touch; saving over the mapped file is safe. Other classes throw
   * {@link InvalidArgument}. Default false.
   */
  mmap?: boolean;
  /**
   * With `mmap`: also check every section's CRC and content, reading the whole
   * file, exactly as a copy load always does — including that ids are unique
   * and at most 2^53−1 and that the stored id order matches them. Without it a
   * damaged file can give wrong answers or missed id lookups, never a crash.
   * Default false.
   */
  verify?: boolean;
}

/** Parameters fixed when an index is created. */
export interface IndexOptions {
  /** Dimensions of every vector (1..8192). */
  dim: number;
  /** Seed of the random rotation (quantized variants). Same seed + data ⇒ identical index. Default 42. */
  seed?: number | bigint;
  /** Candidates reranked exactly per query = k × rerankFactor (1..1024). Default: 20 for Plus, 1 otherwise. */
  rerankFactor?: number;
  /** `"l2"` (squared L2 scores, the default) or `"cosine"` (cosine-distance scores). */
  metric?: Metric;
  /** Zero-pad quantized variants to a multiple of 64 dimensions before the rotation (more code bits, better recall). Default true. */
  padToWord?: boolean;
}

/** Options of `build`: index parameters plus optional ids (default 0..n−1) and tags. */
export interface BuildOptions extends IndexOptions {
  ids?: IdsInput;
  /** 64 label bits per vector (one u64 each), for `tagsAny`/`tagsAll`/`tagsNone` filters. Default: all 0. */
  tags?: BigUint64Array;
  /** `buildAsync` only: called about every 100 ms with the work units done and the total (for a progress bar). */
  onProgress?: (done: number, total: number) => void;
}

/** What an {@link IvfRabitqIndex} keeps for its exact rerank: nothing (codes only), or the vectors as f16 or f32. */
export type Store = "none" | "f16" | "f32";

/** Parameters of an {@link IvfRabitqIndex}. Leave the tuning options out and set `targetRecall` instead. */
export interface IvfIndexOptions {
  /** Dimensions of every vector (1..8192). */
  dim: number;
  /** Seed of the rotation and of k-means. Same seed + data ⇒ identical index. Default 42. */
  seed?: number | bigint;
  /** `"l2"` (squared L2 scores, the default) or `"cosine"` (cosine-distance scores). */
  metric?: Metric;
  /** Number of inverted lists. Default: the power of two nearest 2√n, times √(256/D) for a padded width D above 256. */
  nlist?: number;
  /** Code bits per component, 1..8 (1 = sign bits only). Default 7. */
  exBits?: number;
  /** Vectors kept for an exact rerank (and for `get`/iteration): `"none"` (default), `"f16"` or `"f32"`. */
  store?: Store;
  /** Lists probed per search. Default: nlist / 8, or what `targetRecall` calibrated. */
  nprobe?: number;
  /** Candidates reranked exactly from the store per search (needs a store). Default 0 (codes only), or what `targetRecall` calibrated. */
  rerank?: number;
  /**
   * Recall@10 to reach: `build` measures held-out own rows against their exact
   * neighbours and stores the cheapest nprobe (and, with a store, rerank) whose
   * recall reaches it with confidence. See {@link IvfRabitqIndex.calibration}.
   */
  targetRecall?: number;
}

/** Options of `IvfRabitqIndex.build`: parameters plus optional ids (default 0..n−1). */
export interface IvfBuildOptions extends IvfIndexOptions {
  ids?: IdsInput;
  /** 64 label bits per vector (one u64 each), for `tagsAny`/`tagsAll`/`tagsNone` filters. Default: all 0. */
  tags?: BigUint64Array;
  /** `buildAsync` only: called about every 100 ms with the work units done and the total (for a progress bar). */
  onProgress?: (done: number, total: number) => void;
}

/** Per-search overrides of an {@link IvfRabitqIndex}'s defaults. */
export interface IvfSearchOptions {
  /** Lists probed (more = higher recall, slower). */
  nprobe?: number;
  /** Candidates reranked exactly from the store (needs a store). */
  rerank?: number;
  /** Only vectors this filter passes are returned (see {@link SearchFilter}). */
  filter?: SearchFilter;
}

/** Options of `IvfRabitqIndex` batch searches. */
export interface IvfBatchOptions extends Omit<IvfSearchOptions, "filter"> {
  /** One filter for every query, or an array of one per query. */
  filter?: SearchFilter | readonly SearchFilter[];
  /** Worker threads: 0 (default) = all cores, 1 = the calling thread only. */
  threads?: number;
}

/** What target-recall calibration measured when the index was built. */
export interface Calibration {
  /** The recall@10 asked for. */
  targetRecall: number;
  /** Mean recall@10 of held-out own rows at the chosen nprobe and rerank. */
  measuredRecall: number;
  /** The nprobe chosen (the index's default). */
  nprobe: number;
  /** The rerank chosen (the index's default; with codes only, the one given). */
  rerank: number;
  /** How many held-out rows were measured. */
  queries: number;
}

/** One search result: the vector's id and its distance (ascending = better). */
export interface SearchHit {
  id: number;
  score: number;
}

/** Per-search options. */
export interface SearchOptions {
  /** Override the index's rerank factor for this search (RabitqPlusIndex only; 1..1024). */
  rerankFactor?: number;
  /** Only vectors this filter passes are returned (see {@link SearchFilter}). */
  filter?: SearchFilter;
}

/** Options of batch searches. */
export interface BatchOptions extends Omit<SearchOptions, "filter"> {
  /** One filter for every query, or an array of one per query. */
  filter?: SearchFilter | readonly SearchFilter[];
  /** Worker threads: 0 (default) = all cores, 1 = the calling thread only. */
  threads?: number;
}

/**
 * Results of a batch search: `k` hits per query in flat typed arrays. A
 * filtered query that matches fewer than k vectors leaves its last slots empty:
 * id -1, score `Infinity` (`hits(i)` leaves them out).
 */
export class BatchResult {
  /** @param ids query-major ids, `count × k` (-1: empty slot) @param scores matching scores */
  constructor(
    readonly count: number,
    readonly k: number,
    readonly ids: Float64Array,
    readonly scores: Float32Array,
  ) {}

  /** Hits of query `i`, best first. */
  hits(i: number): SearchHit[] {
    if (!Number.isInteger(i) || i < 0 || i >= this.count) {
      throw new InvalidArgument(`query index ${i} out of range (0..${this.count - 1})`);
    }
    const out: SearchHit[] = [];
    for (let j = i * this.k; j < (i + 1) * this.k && this.ids[j] !== -1; j++) out.push({ id: this.ids[j]!, score: this.scores[j]! });
    return out;
  }
}
