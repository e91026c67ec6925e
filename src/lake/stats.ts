/** Cache counters as the native lake reports them. */

/** Counters of the lake's cache (globally, for a backend, or for a collection). */
export interface CacheStats {
  /** Searches answered from the cache, including those consistency let skip the backend. */
  hits: number;
  /** Freshness checks that found the cache stale or empty. */
  misses: number;
  /** Indexes built from pulled vectors. */
  primes: number;
  /** Cached states dropped because their collection changed or was invalidated. */
  invalidations: number;
  /** Checks answered by a state another collection had already cached. */
  sharedHits: number;
  /** Entries dropped to keep the cache within its bound. */
  evictions: number;
  /** Collections installed from a saved directory. */
  warmInstalls: number;
  /** Time spent building indexes, in ms. */
  totalPrimeMs: number;
  /** Time of the latest build, in ms. */
  lastPrimeMs: number;
  /** hits / (hits + misses), or 0 before any search. */
  hitRate: number;
  /** Cached indexes (lake-wide). */
  entries: number;
  /** Bytes held by cached indexes (lake-wide). */
  bytes: number;
}

/** Converts the native counter array. */
export function toCacheStats(a: BigUint64Array): CacheStats {
  const n = (i: number) => Number(a[i]!);
  const [hits, misses] = [n(0), n(1)];
  return {
    hits,
    misses,
    primes: n(2),
    invalidations: n(3),
    sharedHits: n(4),
    evictions: n(5),
    warmInstalls: n(6),
    totalPrimeMs: n(7) / 1000,
    lastPrimeMs: n(8) / 1000,
    hitRate: hits + misses === 0 ? 0 : hits / (hits + misses),
    entries: n(9),
    bytes: n(10),
  };
}
