/**
 * The contract between the lake and a source of vectors. Adapters may answer
 * synchronously or with Promises; the lake awaits them from the JS side and
 * hands the vectors to the native cache, so native threads never call into JS.
 */

/** A backend's version marker for one collection: a counter, or an opaque string (e.g. an ETag). */
export type Generation = number | bigint | string;

/** One collection's vectors as a backend hands them over. */
export interface PulledBatch {
  /** Ids, one per vector: integers in 0..2^53−1, unique. */
  ids: ArrayLike<number> | BigUint64Array;
  /** Row-major vectors, `ids.length × dim`. */
  vectors: Float32Array;
  /** Dimensions per vector. */
  dim: number;
  /** The generation these vectors belong to. */
  generation: Generation;
}

/** What identifies a collection's current state; the lake derives the bundle witness from it. */
export interface BundleInfo {
  /** Where the data lives, e.g. `local://hot/docs`, `file:///data/docs.ruvec`, `postgres://pg1/docs`. */
  dataRef: string;
  /** Dimensions per vector. */
  dim: number;
  /** The collection's current generation. */
  generation: Generation;
}

/**
 * What changed in a collection between two generations: the ids now absent,
 * and the rows inserted or replaced (their current vectors). An id appears in
 * at most one of the two lists.
 */
export interface ChangeSet {
  /** The generation these changes lead to (the collection's current one). */
  generation: Generation;
  /** Ids removed since the earlier generation. */
  removed: ArrayLike<number> | BigUint64Array;
  /** Ids inserted or replaced since then, one per row of `vectors`. */
  upserted: ArrayLike<number> | BigUint64Array;
  /** Row-major vectors of `upserted`, `upserted.length × dim`. */
  vectors: Float32Array;
}

/** A value or a Promise of it. */
export type MaybePromise<T> = T | Promise<T>;

/**
 * A source of vectors the lake can cache and search. `currentBundle` is asked
 * on freshness checks and should be cheap (no full pull); `pullVectors` runs
 * only when the cached copy is stale.
 */
export interface BackendAdapter {
  /** Unique id of this backend within a lake. */
  readonly id: string;
  /** Names of the collections this backend holds. */
  listCollections(): MaybePromise<string[]>;
  /** All vectors of a collection. */
  pullVectors(collection: string): MaybePromise<PulledBatch>;
  /** The collection's current state; changes whenever its vectors change. */
  currentBundle(collection: string): MaybePromise<BundleInfo>;
  /**
   * Optional: the changes from generation `since` to the current one, or
   * undefined when the backend cannot tell (it no longer remembers `since`, or
   * the collection was replaced). With it, a freshness check that finds a newer
   * generation applies these to the cached index instead of pulling everything.
   */
  changesSince?(collection: string, since: Generation): MaybePromise<ChangeSet | undefined>;
}
